"""Worker side of the timing engine (untrusted in the learner's worker, trusted in the baseline's).

The parent (``grader.checks.timing.measure``) drives the same protocol in both workers:

1. ``prepare``: build the inputs from a seed the parent sends (nothing big crosses the pipe), in
   two buffers for ``x``, and the callable to time; keep them in ``env.state``.
2. ``go`` (timed by the parent's clock): on CUDA the next input is generated first, from a seed
   that arrives with this request (so nothing can be computed for it in advance), then the GPU is
   kept busy for a moment (clocks up after the parent's verification pause), L2 is flushed, the
   guard is entered, and only then do CUDA events time the call, ending after a device-wide
   synchronise (work queued on side streams counts). On CPU the call is timed by the parent alone,
   from the CPU time the kernel charged to this worker process (nothing measured here is used).
   A few output values at positions the parent drew are read inside the window.
3. ``fetch`` (untimed): the whole output, or (baseline worker) the float64 reference.
4. ``next`` (untimed, CPU): the next input, from a seed the parent sends, into the *other* buffer.

Every timed call gets an input that differs from the previous one everywhere and lives in a
different storage, so no cache (by id, storage or value) can pay: patching a cached output costs
as much as computing it (issue 13 route 8). One verified warm-up call instead changes a single
element of the previous input in place, so a cache that replays stale outputs is caught too.

The baseline's call runs under a guard with the learner's bans too (its findings are dropped), so
both sides pay the same guard overhead.
"""

from __future__ import annotations

import importlib

import torch

from grader.runner.guard import BannedOps, Guard

L2_FLUSH_BYTES = 256 * 1024 * 1024  # larger than any current GPU's L2 (H100 50 MB, B200 126 MB)
KEEP_BUSY_S = 0.02  # GPU work right before each timed call: clocks back up after an idle pause
PROBES = "grader.probes."


# -- inputs ---------------------------------------------------------------------------------------
def _fill(tensor: torch.Tensor, seed: int, scale: float = 1.0) -> torch.Tensor:
    gen = torch.Generator(device=tensor.device).manual_seed(int(seed))
    tensor.normal_(0.0, scale, generator=gen)
    return tensor


def _weight_scale(shape) -> float:
    fan_in = 1
    for s in shape[1:]:
        fan_in *= int(s)
    return 1.0 / fan_in ** 0.5  # keeps outputs O(1) whatever the fan-in


def random_inputs(spec: dict, seed: int, device: str, dtype: torch.dtype = torch.float32) -> dict:
    """Tensors for ``spec`` (name -> shape), seeded; weights scaled by 1/sqrt(fan-in)."""
    tensors = {}
    for offset, (name, shape) in enumerate(sorted(spec.items())):
        t = torch.empty(tuple(int(s) for s in shape), dtype=dtype, device=device)
        scale = _weight_scale(shape) if name != "x" and len(shape) > 1 else 1.0
        tensors[name] = _fill(t, seed + offset, scale)
    return tensors


# -- what to call ---------------------------------------------------------------------------------
def _resolve(path: str):
    """A builder function of ``grader.probes`` ("grader.probes.mod:fn"), nothing else."""
    module, _, name = path.partition(":")
    if not module.startswith(PROBES) or not name.isidentifier():
        raise LookupError(f"not a grader probe builder: {path!r}")
    return getattr(importlib.import_module(module), name)


def build(env, target: dict, inputs: dict, seed: int, device: str):
    """(zero-argument callable, plain state dict or None) for ``target``.

    The callable reads ``inputs`` when called (the parent swaps ``inputs["x"]`` between calls) and
    does not enter the guard: ``go`` does, around the timed window. Kinds: ``entry`` (a learner
    function), ``module`` (a learner nn.Module class built with ``init``, called on ``x``),
    ``torch`` (``torch.nn.functional.<name>``), ``torch_module`` (``torch.nn.<name>``),
    ``builder`` (a function of ``grader.probes`` returning the pair, for references and custom
    timed work such as p06's training steps)."""
    import torch.nn as nn
    import torch.nn.functional as F

    kind, kwargs = target["kind"], dict(target.get("kwargs", {}))
    names = tuple(target.get("args", ("x",)))
    if kind == "entry":
        fn = env.entry(target["name"])
        return (lambda: fn(*[inputs.get(a) for a in names], **kwargs)), None
    if kind == "module":
        cls = env.entry(target["name"])
        torch.manual_seed(seed)
        with env.learner():
            module = cls(**target.get("init", {})).to(device).eval()
        state = {k: v.detach().cpu().clone() for k, v in module.state_dict().items()
                 if type(v) is torch.Tensor}
        return (lambda: module(inputs["x"])), state
    if kind == "torch":
        fn = getattr(F, target["name"])
        return (lambda: fn(*[inputs.get(a) for a in names], **kwargs)), None
    if kind == "torch_module":
        torch.manual_seed(seed)
        module = getattr(nn, target["name"])(**target.get("init", {})).to(device).eval()
        return (lambda: module(inputs["x"])), None
    if kind == "builder":
        return _resolve(target["name"])(env, inputs, seed, device, **kwargs)
    raise ValueError(f"unknown speed target kind {kind!r}")


def fix_tf32() -> None:
    """PyTorch's defaults, re-set before every timed call so neither side runs with other math:
    cuDNN convolutions may use TF32, matmuls may not."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = True


# -- the protocol ---------------------------------------------------------------------------------
def prepare(env, key: str, target: dict, inputs: dict, seed: int, device: str, dtype_name: str = "float32",
            reference: dict | None = None, threads: int = 0, learner: bool = True) -> dict:
    if threads:
        env.state.setdefault("timing_threads_before", torch.get_num_threads())
        torch.set_num_threads(threads)
    dtype = getattr(torch, dtype_name)
    tensors = random_inputs(inputs, seed, device, dtype)
    slot = {"inputs": tensors, "buffers": [tensors["x"], torch.empty_like(tensors["x"])], "current": 0,
            "out": None, "device": device, "learner": learner, "target": target, "seed": seed}
    slot["call"], state = build(env, target, tensors, seed, device)
    slot["reference"] = reference
    if device == "cuda":
        fix_tf32()
        slot["flush"] = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device="cuda")
        slot["busy"] = torch.randn(2048, 2048, device="cuda")
        slot["busy_iters"] = _calibrate_busy(slot["busy"])
    env.state[key] = slot
    info = {"threads": torch.get_num_threads(), "device": device}
    if device == "cuda":
        info["device_name"] = torch.cuda.get_device_name()
    if state is not None:
        info["state_dict"] = state
    return info


def _calibrate_busy(buffer: torch.Tensor) -> int:
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(3):
        buffer @ buffer
    start.record()
    for _ in range(5):
        buffer @ buffer
    end.record()
    end.synchronize()
    per_call_s = max(start.elapsed_time(end) / 5e3, 1e-6)
    return max(1, min(1000, int(KEEP_BUSY_S / per_call_s)))


def _swap_in(slot: dict, seed: int) -> None:
    """The next input: fresh random values everywhere, in the buffer the last call did not use."""
    slot["current"] ^= 1
    x = _fill(slot["buffers"][slot["current"]], seed)
    slot["inputs"]["x"] = x


def _perturb(slot: dict, seed: int) -> None:
    """One element of the input just used, changed in place (same tensor, same storage, nearly
    the same values): a cache keyed on identity, storage or a fingerprint returns a stale output."""
    x = slot["inputs"]["x"].view(-1)
    gen = torch.Generator().manual_seed(int(seed))
    index = int(torch.randint(0, x.numel(), (), generator=gen))
    value = float(torch.empty(()).uniform_(4.0, 8.0, generator=gen)) * (1 if index % 2 else -1)
    x[index] = value


def _next(slot: dict, seed: int, perturb: bool) -> None:
    (_perturb if perturb else _swap_in)(slot, seed)


def go(env, key: str, picks: list, seed: int | None = None, memory: bool = False,
       guard_bans: dict | None = None, perturb: bool = False) -> dict:
    """The timed call. ``seed`` (CUDA): make the next input first, inside this request (fresh
    everywhere, or with ``perturb`` one element changed in place). Returns ``{"sample", "event_s",
    "peak_bytes"}``."""
    slot = env.state[key]
    cuda = slot["device"] == "cuda"
    if seed is not None:
        _next(slot, seed, perturb)
    guard = env.learner() if slot["learner"] else Guard(BannedOps(**(guard_bans or {})))
    event_s = peak = None
    with torch.no_grad() if slot["target"].get("no_grad", True) else torch.enable_grad():
        if cuda:
            fix_tf32()
            for _ in range(slot["busy_iters"]):  # keep the clocks up (issue 11 item 7)
                slot["busy"] @ slot["busy"]
            slot["flush"].zero_()  # evict the inputs from L2 so no side starts warm
            torch.cuda.synchronize()
            if memory:
                before = torch.cuda.memory_allocated()
                torch.cuda.reset_peak_memory_stats()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            with guard:  # entered before the window opens (item 5)
                start.record()
                out = slot["call"]()
                torch.cuda.synchronize()  # every stream, not only the current one (item 6)
                end.record()
            end.synchronize()
            event_s = start.elapsed_time(end) / 1000.0
            if memory:
                peak = torch.cuda.max_memory_allocated() - before
        else:
            with guard:
                out = slot["call"]()
    slot["out"] = out
    sample = None
    if type(out) is torch.Tensor and out.numel() and picks:
        flat = out.reshape(-1)
        sample = flat[torch.tensor([int(p * flat.numel()) for p in picks], dtype=torch.long,
                                   device=flat.device)].cpu()
    return {"sample": sample, "event_s": event_s, "peak_bytes": peak}


def next_input(env, key: str, seed: int, perturb: bool = False) -> None:
    """Untimed (CPU): the next timed call's input, fresh everywhere in the other buffer, or (a
    warm-up call, ``perturb``) the last input with one element changed in place."""
    _next(env.state[key], seed, perturb)


def _gather(out, positions, projection_seed=None):
    """``{"shape", "dtype", "values", "projection", "norm"}``: the output at relative positions
    (floats in [0, 1)) of its flattened view, so a GPU output of gigabytes is verified without
    crossing the pipe; and, with ``projection_seed``, its inner product with a random normal
    tensor drawn from that seed (sent after the timed call), which depends on every output value:
    a kernel that computed only what the positions ask for cannot get it right, and computing it
    from the input instead (the adjoint) costs a transposed convolution."""
    if type(out) is not torch.Tensor:
        return {"shape": None, "dtype": type(out).__name__, "values": None}
    flat = out.reshape(-1)
    index = torch.tensor([int(p * flat.numel()) for p in positions], dtype=torch.long, device=flat.device)
    values = flat[index].cpu() if flat.numel() else flat.cpu()
    reply = {"shape": list(out.shape), "dtype": str(out.dtype).replace("torch.", ""), "values": values}
    if projection_seed is not None and out.is_floating_point():
        gen = torch.Generator(device=out.device).manual_seed(int(projection_seed))
        r = torch.randn(out.shape, generator=gen, device=out.device, dtype=torch.float32)
        wide = out if out.dtype == torch.float64 else out.float()
        reply["projection"] = float(torch.sum(wide * r.to(wide.dtype), dtype=torch.float64))
        reply["norm"] = float(torch.linalg.vector_norm(wide, dtype=torch.float64))
    return reply


def fetch(env, key: str, which: str = "out", positions: list | None = None, projection_seed: int | None = None,
          next_seed: int | None = None, perturb_next: bool = False):
    """Untimed: the last timed output (moved to the CPU), or the float64 reference for the
    current input (baseline worker only; ``which="reference64"``) or the reference in the
    input's dtype (``"reference"``). With ``positions``: only the values there (``_gather``).
    With ``next_seed`` (``which="out"``, CPU): then make the next input, as ``next_input`` does."""
    slot = env.state[key]
    if which == "out":
        out = slot["out"]
        if positions is not None:
            reply = _gather(out, positions, projection_seed)
        else:
            reply = out.cpu() if type(out) is torch.Tensor else out
        if next_seed is not None:  # the next input, in the same untimed request (one round trip less)
            _next(slot, next_seed, perturb_next)
        return reply
    as64 = which == "reference64"
    inputs = {k: v.double() if as64 and v.is_floating_point() else v for k, v in slot["inputs"].items()}
    target = slot["reference"] or slot["target"]
    call, _ = build(env, target, inputs, slot["seed"], slot["device"])
    with torch.no_grad():
        if as64 and slot["device"] == "cuda":
            saved = torch.backends.cudnn.allow_tf32
            torch.backends.cudnn.allow_tf32 = False
            try:
                out = call()
            finally:
                torch.backends.cudnn.allow_tf32 = saved
        else:
            out = call()
    if positions is not None:
        return _gather(out, positions, projection_seed)
    return out.cpu() if type(out) is torch.Tensor else out


def finish(env) -> None:
    """Free the prepared inputs and give later checks the worker's thread count back."""
    for key in [k for k, v in env.state.items() if type(v) is dict and "buffers" in v]:
        del env.state[key]
    before = env.state.pop("timing_threads_before", None)
    if before:
        torch.set_num_threads(before)
    if torch.cuda.is_initialized():
        torch.cuda.empty_cache()
