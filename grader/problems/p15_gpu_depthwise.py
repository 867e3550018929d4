"""p15: a depthwise convolution kernel in Triton.

Correctness runs everywhere: on CPU the worker sets TRITON_INTERPRET=1 before importing the
learner's file (``SPEC.worker_env``), so the kernel runs on Triton's interpreter (numpy, about
10-100 ms per program under the grader's op guard); the cases are therefore tiny. On CUDA the same
checks run the compiled kernel, with ``TRITON_INTERPRET=0`` forced (a value from the user's
environment must not leak into a CUDA run). Speed runs on CUDA only (``needs_cuda``), through the
timing engine (``grader.checks.timing``): see ``SPEED_CASES`` below.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from grader.bans import CONV, forbid
from grader.checks.cases import choice, conv_output_formula, describe_conv, pair, randint, random_tensor
from grader.checks.compare import compare
from grader.checks.timing import SpeedCase, speed_check
from grader.checks.verdict import Fail, passed
from grader.probes import p15_gpu_depthwise as probes
from grader.spec import Check, ProblemSpec

ENTRY = "depthwise_conv2d"
BANNED = forbid(CONV)


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


def _check_cases(ctx, family: str, count: int, dtype: torch.dtype):
    for index in range(count):
        seed = ctx.case_seed(index)
        case = make_case(torch.Generator().manual_seed(seed), family, dtype)
        label = describe_conv(index, seed, tuple(case["x"].shape), tuple(case["weight"].shape), dtype,
                              stride=case["stride"], padding=case["padding"], bias=case["bias"] is not None,
                              no_bias=case["bias"] is None)
        reply = ctx.probe(probes.device_call, case["x"], case["weight"], case["bias"],
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


# -- speed on CUDA (uncalibrated: written without a GPU; scripts/gpu_check.sh measures it) ------
# Peak DRAM bandwidth by device name, first match wins (vendor data sheets, bytes/s).
PEAK_BANDWIDTH = (
    ("H200", 4.8e12), ("H100 NVL", 3.9e12), ("H100 PCIe", 2.0e12), ("H100", 3.35e12),
    ("GH200", 4.0e12), ("B200", 8.0e12), ("A100-SXM4-80GB", 2.039e12), ("A100 80GB PCIe", 1.935e12),
    ("A100", 1.555e12), ("L40S", 0.864e12), ("L40", 0.864e12), ("L4", 0.3e12), ("A10G", 0.6e12),
    ("A10", 0.6e12), ("V100", 0.9e12), ("T4", 0.32e12), ("RTX 4090", 1.008e12),
    ("RTX 3090", 0.936e12), ("RTX 4080", 0.717e12), ("RTX 3080", 0.76e12),
)

# (label, N, C, H, W, k, stride, padding, dtype)
SPEED_SHAPES = (
    ("MobileNetV2 block, 32x144x56x56 3x3", 32, 144, 56, 56, 3, 1, 1, torch.float32),
    ("MobileNetV2 downsample, 32x96x112x112 3x3 s2", 32, 96, 112, 112, 3, 2, 1, torch.float32),
    ("large image, 16x64x512x512 3x3", 16, 64, 512, 512, 3, 1, 1, torch.float32),
    ("MobileNetV2 block, 32x144x56x56 3x3", 32, 144, 56, 56, 3, 1, 1, torch.float16),
    ("large image, 16x64x512x512 3x3", 16, 64, 512, 512, 3, 1, 1, torch.float16),
)
# The time ratio yours / F.conv2d(groups=C), median over the shapes (lower is better). 1.0:
# at least as fast as PyTorch's kernel. Uncalibrated; the anchor: PyTorch's depthwise
# 3x3 moves about 25% of an H100's peak DRAM bandwidth on 16x64x512x512 fp32, and the goal for
# the reference is 60% or more, so 1.0 should leave a wide margin.
SPEED_THRESHOLD = 1.0


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


def _speed_case(label, n, c, h, w, k, stride, padding, dtype) -> SpeedCase:
    dtype_name = str(dtype).replace("torch.", "")
    inputs = {"x": (n, c, h, w), "weight": (c, 1, k, k)}
    kwargs = {"stride": stride, "padding": padding}
    return SpeedCase(
        f"{label} {dtype_name}", inputs,
        learner={"kind": "entry", "name": ENTRY, "args": ("x", "weight", "bias"), "kwargs": kwargs},
        baseline={"kind": "torch", "name": "conv2d", "args": ("x", "weight", "bias"),
                  "kwargs": dict(kwargs, groups=c)},
        dtype=dtype_name, nbytes=bytes_moved(n, c, h, w, k, stride, padding, dtype))


# What Triton 3.x itself starts as child processes on CUDA (from its sources: backends/nvidia/
# driver.py, compiler.py, runtime/build.py), for the sandbox's exec allowlist and the guard: the
# driver runs `/sbin/ldconfig -p` once per process; the compiler `ptxas --version` once and
# `ptxas` per new kernel (`ptxas-blackwell` for sm >= 90, from triton/backends/nvidia/bin); a cold
# cache builds cuda_utils with the C compiler ($CC, gcc or clang; gcc runs cc1, as, collect2, ld).
# Not grader code: a record that tests/test_p15_gpu_depthwise.py checks against Triton itself.
TRITON_CHILD_PROGRAMS = ("ldconfig", "ptxas", "ptxas-blackwell", "gcc", "cc", "clang", "cc1", "as",
                         "collect2", "ld")


SPEED_CASES = tuple(_speed_case(*shape) for shape in SPEED_SHAPES)
gpu_speed = speed_check(SPEED_CASES, threshold=SPEED_THRESHOLD, baseline_name="F.conv2d(groups=C)",
                        device="cuda", peak_bandwidth=peak_bandwidth, min_rounds=5, max_rounds=20,
                        time_cap_s=20.0)


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
        Check("at least as fast as F.conv2d(groups=C) on CUDA", "speed", 4, gpu_speed, needs_cuda=True),
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
    # Both values are set explicitly: TRITON_INTERPRET=1 in the user's environment must not turn
    # a CUDA run into an interpreter run (issue 11 item 9), nor 0 a CPU run into a failed launch.
    worker_env={"cpu": {"TRITON_INTERPRET": "1"}, "cuda": {"TRITON_INTERPRET": "0"}},
    requires={"triton": "pip install 'triton>=3.0'; Triton has wheels for Linux x86_64"},
    worker_reimport=("triton",),  # torch's preload imported it before the variable was set
)
