"""p15: a depthwise convolution kernel in Triton.

Correctness runs everywhere: on CPU the worker sets TRITON_INTERPRET=1 before importing the
learner's file (``SPEC.worker_env``), so the kernel runs on Triton's interpreter (numpy, about
10-100 ms per program under the grader's op guard); the cases are therefore tiny. On CUDA the same
checks run the compiled kernel. Speed runs on CUDA only (``needs_cuda``): see ``gpu_speed`` below.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from grader.bans import CONV_ATEN, CONV_PY
from grader.checks.cases import choice, conv_output_formula, describe_conv, pair, randint, random_tensor
from grader.checks.compare import TOLERANCES, compare
from grader.checks.verdict import Fail, Verdict, passed
from grader.runner.guard import BannedOps
from grader.spec import Check, ProblemSpec

ENTRY = "depthwise_conv2d"
PROBE = "grader.problems.p15_gpu_depthwise:"
BANNED = BannedOps(aten=dict(CONV_ATEN), python=dict(CONV_PY))


# -- correctness: tiny cases, compared in the parent with F.conv2d(groups=C) in float64 ---------
def make_case(gen: torch.Generator, family: str, dtype: torch.dtype) -> dict:
    """A case small enough for the interpreter: N*C <= 4 planes of at most 12x12 outputs."""
    n, c = randint(gen, 1, 2), randint(gen, 1, 2)
    kh, kw = choice(gen, [(3, 3), (3, 3), (1, 3), (2, 3), (5, 5), (3, 2)])
    stride, padding = 1, 0
    if family in ("padding", "fp16"):
        padding = choice(gen, [randint(gen, 1, 2), (randint(gen, 0, 2), randint(gen, 1, 2))])
    if family in ("stride", "fp16"):
        stride = choice(gen, [2, (randint(gen, 1, 3), randint(gen, 1, 3)), 3])
        padding = choice(gen, [0, 1, (1, 0)])
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    h = randint(gen, max(kh - 2 * ph, 1), 12)
    w = randint(gen, max(kw - 2 * pw, 1), 12)
    bias = random_tensor(gen, (c,), dtype) if randint(gen, 0, 2) else None
    return {"x": random_tensor(gen, (n, c, h, w), dtype), "weight": random_tensor(gen, (c, 1, kh, kw), dtype),
            "bias": bias, "stride": stride, "padding": padding}


def reference(case: dict) -> torch.Tensor:
    as64 = lambda t: None if t is None else t.to(torch.float64)  # noqa: E731
    return F.conv2d(as64(case["x"]), as64(case["weight"]), as64(case["bias"]), case["stride"],
                    case["padding"], groups=case["x"].shape[1])


def device_call(env, x, weight, bias, stride, padding):
    """Worker side: the learner's kernel on the run's device; returns the output, its device and
    the inputs as they are afterwards (the copies on the device, so in-place edits show there too)."""
    device = torch.device(env.device)
    args = [None if t is None else t.to(device) for t in (x, weight, bias)]
    fn = env.entry(ENTRY)
    with env.learner():
        out = fn(*args, stride=stride, padding=padding)
    where = out.device.type if type(out) is torch.Tensor else None
    return {"out": out, "device": where, "after": args}


def _check_cases(ctx, family: str, count: int, dtype: torch.dtype):
    for index in range(count):
        seed = ctx.case_seed(index)
        case = make_case(torch.Generator().manual_seed(seed), family, dtype)
        label = describe_conv(index, seed, tuple(case["x"].shape), tuple(case["weight"].shape), dtype,
                              stride=case["stride"], padding=case["padding"], bias=case["bias"] is not None,
                              no_bias=case["bias"] is None)
        reply = ctx.probe(PROBE + "device_call", case["x"], case["weight"], case["bias"],
                          case["stride"], case["padding"], arg_names=("x", "weight", "bias"),
                          what=f"{ENTRY}()")
        for name, sent, back in zip(("x", "weight", "bias"), (case["x"], case["weight"], case["bias"]),
                                    reply["after"]):
            if sent is not None and not (type(back) is torch.Tensor and torch.equal(back, sent)):
                raise Fail(f"{label}: {ENTRY}() modified its input `{name}` in place; inputs must be left unchanged")
        if reply["device"] is not None and reply["device"] != ctx.device:
            raise Fail(f"{label}: {ENTRY}() returned a tensor on {reply['device']}, expected it on "
                       f"{ctx.device} like the input")
        (h, w), (kh, kw) = case["x"].shape[-2:], case["weight"].shape[-2:]
        (sh, sw), (ph, pw) = pair(case["stride"]), pair(case["padding"])
        hint = (conv_output_formula(h, kh, sh, ph, 1, "H") + "; " + conv_output_formula(w, kw, sw, pw, 1, "W"))
        compare(reply["out"], reference(case), dtype=dtype, what=f"{ENTRY}()", case=label, shape_hint=hint)
    return passed(f"{count} random {str(dtype).replace('torch.', '')} cases match F.conv2d(groups=C)")


def correctness(family: str, count: int, dtype: torch.dtype = torch.float32):
    return lambda ctx: _check_cases(ctx, family, count, dtype)


# -- speed on CUDA (cannot run on a machine without a GPU; not exercised by the project's CI) -----
# Peak DRAM bandwidth by device name, first match wins (vendor data sheets, bytes/s).
PEAK_BANDWIDTH = (
    ("H200", 4.8e12), ("H100 NVL", 3.9e12), ("H100 PCIe", 2.0e12), ("H100", 3.35e12),
    ("GH200", 4.0e12), ("B200", 8.0e12), ("A100-SXM4-80GB", 2.039e12), ("A100 80GB PCIe", 1.935e12),
    ("A100", 1.555e12), ("L40S", 0.864e12), ("L40", 0.864e12), ("L4", 0.3e12), ("A10G", 0.6e12),
    ("A10", 0.6e12), ("V100", 0.9e12), ("T4", 0.32e12), ("RTX 4090", 1.008e12),
    ("RTX 3090", 0.936e12), ("RTX 4080", 0.717e12), ("RTX 3080", 0.76e12),
)

# (label, N, C, H, W, k, stride, padding, dtype, calls per round)
SPEED_SHAPES = (
    ("MobileNetV2 block, 32x144x56x56 3x3", 32, 144, 56, 56, 3, 1, 1, torch.float32, 20),
    ("MobileNetV2 downsample, 32x96x112x112 3x3 s2", 32, 96, 112, 112, 3, 2, 1, torch.float32, 20),
    ("large image, 16x64x512x512 3x3", 16, 64, 512, 512, 3, 1, 1, torch.float32, 4),
    ("MobileNetV2 block, 32x144x56x56 3x3", 32, 144, 56, 56, 3, 1, 1, torch.float16, 20),
    ("large image, 16x64x512x512 3x3", 16, 64, 512, 512, 3, 1, 1, torch.float16, 4),
)
SPEED_ROUNDS = 5
SPEED_THRESHOLD = 1.0  # geometric mean of F.conv2d time / your time over the shapes
SAMPLES = 256  # output positions compared per timed call
L2_FLUSH_BYTES = 256 << 20  # larger than any current L2 (H100: 50 MB)


def peak_bandwidth(device_name: str) -> float | None:
    for key, value in PEAK_BANDWIDTH:
        if key.lower() in device_name.lower():
            return value
    return None


def bytes_moved(n, c, h, w, k, stride, padding, dtype) -> int:
    """The minimum DRAM traffic: read x once, write y once (weights and bias are negligible)."""
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    size = torch.empty((), dtype=dtype).element_size()
    return (n * c * h * w + n * c * ho * wo + c * k * k) * size


def time_calls(env, shape, seeds, sample_index, learner):
    """Worker side (CUDA). Every call gets a fresh input drawn from a seed the parent chose, L2 is
    flushed before it, and CUDA events time it. A grader dispatch mode (cheap: no profile hook)
    watches the timed calls of both workers alike for banned aten ops. Returns the times and, per
    call, the output at the parent's sample positions (both workers draw identical inputs)."""
    from grader.runner.guard import Findings, _DispatchWatcher

    _, n, c, h, w, k, stride, padding, dtype_name, _ = shape
    dtype = getattr(torch, dtype_name)
    dev = torch.device("cuda")
    if "flush" not in env.state:
        env.state["flush"] = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device=dev)
    fn = env.entry(ENTRY) if learner else None
    index = torch.tensor(sample_index, device=dev)
    times, samples, findings = [], [], Findings()
    if learner:  # one untimed call on its own input under the full guard (profile hook and all)
        gen = torch.Generator(device=dev).manual_seed(seeds[0] ^ 0x5DEECE66D)
        with env.learner():
            fn(torch.randn((n, c, h, w), generator=gen, device=dev, dtype=dtype),
               torch.randn((c, 1, k, k), generator=gen, device=dev, dtype=dtype), None,
               stride=stride, padding=padding)
    for seed in seeds:
        gen = torch.Generator(device=dev).manual_seed(seed)
        x = torch.randn((n, c, h, w), generator=gen, device=dev, dtype=dtype)
        weight = torch.randn((c, 1, k, k), generator=gen, device=dev, dtype=dtype)
        env.state["flush"].zero_()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        with _DispatchWatcher(BANNED if learner else BannedOps(), findings):
            start.record()
            out = (fn(x, weight, None, stride=stride, padding=padding) if learner
                   else F.conv2d(x, weight, None, stride, padding, groups=c))
            end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
        ok = type(out) is torch.Tensor and out.is_cuda and out.dtype == dtype and out.is_contiguous()
        samples.append(out.reshape(-1)[index].double().cpu() if ok and out.numel() > max(sample_index)
                       else None)
        del x, weight, out
    env.findings["banned"].update(findings.banned)
    return {"times": times, "samples": samples, "device_name": torch.cuda.get_device_name()}


def speed_verdict(rows: list[dict], device_name: str, threshold: float = SPEED_THRESHOLD) -> Verdict:
    """Parent side, from plain numbers: rows of {label, bytes, learner (s), baseline (s)}."""
    peak = peak_bandwidth(device_name)
    lines, ratios = [], []
    for row in rows:
        mine, base = sorted(row["learner"]), sorted(row["baseline"])
        t_mine, t_base = mine[len(mine) // 2], base[len(base) // 2]
        if peak and t_mine < row["bytes"] / peak * 0.9:
            raise Fail(f"{row['label']}: a median of {t_mine * 1e3:.3f} ms would move "
                       f"{row['bytes'] / t_mine / 1e12:.2f} TB/s, beyond {device_name}'s peak of "
                       f"{peak / 1e12:.2f} TB/s: the timing was tampered with or the work skipped")
        ratio = t_base / t_mine
        ratios.append(ratio)
        achieved = row["bytes"] / t_mine
        roof = f", {achieved / peak:.0%} of peak" if peak else ""
        spread = f"{mine[0] * 1e3:.3f}-{mine[-1] * 1e3:.3f}"
        lines.append(f"{row['label']}: yours {t_mine * 1e3:.3f} ms ({spread}; {achieved / 1e9:.0f} GB/s{roof}), "
                     f"F.conv2d {t_base * 1e3:.3f} ms ({row['bytes'] / t_base / 1e9:.0f} GB/s): {ratio:.2f}x")
    mean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    card = f"{device_name}, peak {peak / 1e12:.2f} TB/s" if peak else f"{device_name}, peak bandwidth unknown"
    message = (f"{mean:.2f}x F.conv2d(groups=C) (geometric mean, need {threshold:.1f}x) on {card}\n"
               + "\n".join(lines))
    if mean < threshold:
        raise Fail(message, measured=mean, threshold=threshold, unit="x")
    return passed(message, measured=mean, threshold=threshold, unit="x")


def gpu_speed(ctx):
    """Interleaved rounds: learner worker, then the trusted baseline worker, on the same fresh
    inputs (same seeds); outputs of every timed call are compared at random positions."""
    baseline = ctx.baseline_worker()
    rows, device_name = [], "unknown GPU"
    for shape_index, (label, n, c, h, w, k, s, p, dtype, calls) in enumerate(SPEED_SHAPES):
        gen = ctx.generator(shape_index)
        ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        shape = (label, n, c, h, w, k, s, p, str(dtype).replace("torch.", ""), calls)
        row = {"label": f"{label} {shape[8]}", "bytes": bytes_moved(n, c, h, w, k, s, p, dtype),
               "learner": [], "baseline": []}
        for _ in range(SPEED_ROUNDS):
            seeds = [randint(gen, 1, 2**62) for _ in range(calls)]
            index = [randint(gen, 0, n * c * ho * wo - 1) for _ in range(SAMPLES)]
            mine = ctx.probe(PROBE + "time_calls", shape, seeds, index, True, what=f"{ENTRY}()")
            base = ctx.probe(PROBE + "time_calls", shape, seeds, index, False, worker=baseline,
                             banned=BannedOps())
            device_name = base["device_name"]
            for call, (got, want) in enumerate(zip(mine["samples"], base["samples"])):
                if got is None:
                    raise Fail(f"{row['label']}: a timed call did not return a contiguous CUDA tensor of "
                               f"dtype {dtype} with N*C*Ho*Wo = {n * c * ho * wo} elements")
                compare(got, want, dtype=torch.float64, what=f"{ENTRY}() in a timed call",
                        case=f"{row['label']}, timed call {call} (seed {seeds[call]})",
                        tolerance=TOLERANCES[dtype])
            row["learner"] += mine["times"]
            row["baseline"] += base["times"]
        rows.append(row)
    return speed_verdict(rows, device_name)


SPEC = ProblemSpec(
    id="p15",
    name="gpu_depthwise",
    title="A depthwise convolution kernel in Triton",
    question=15,
    question_text="How would you write a fast depthwise convolution kernel for the GPU?",
    entry_points=(ENTRY,),
    checks=(
        Check("stride 1, no padding", "correctness", 2, correctness("basic", 3)),
        Check("padding", "correctness", 2, correctness("padding", 2)),
        Check("stride", "correctness", 2, correctness("stride", 2)),
        Check("float16", "correctness", 2, correctness("fp16", 3, torch.float16)),
        Check("faster than F.conv2d(groups=C) on CUDA", "speed", 4, gpu_speed, needs_cuda=True),
    ),
    hints=(
        "Depthwise means every channel is convolved with its own kH x kW filter: no sum over channels. "
        "So each (n, c) plane is an independent 2-D problem; give each Triton program one tile of "
        "one plane's output.",
        "In the program, build the tile's output rows and columns with tl.arange, and for each of the "
        "kH*kW taps load the input at (oh*stride - padding + i, ow*stride - padding + j) with a mask "
        "for the borders (other=0.0 is the zero padding), multiply by that tap's scalar weight and "
        "accumulate.",
        "Accumulate in float32 and cast once when storing, so fp16 keeps its accuracy and the output "
        "keeps the input's dtype. The kernel is memory-bound: the goal is to read x and write y once; "
        "unroll the taps with tl.static_range (kH, kW as tl.constexpr) so the weights sit in "
        "registers, and make the tile wide along W for coalesced loads.",
    ),
    time_limit_s=120.0,
    banned=BANNED,
    worker_env={"cpu": {"TRITON_INTERPRET": "1"}},
    requires={"triton": "pip install 'triton>=3.0'; Triton has wheels for Linux x86_64"},
    worker_reimport=("triton",),  # torch's preload imported it before the variable was set
)
