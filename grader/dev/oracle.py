"""A broad oracle that does not use the grader: is a mutant of a reference really wrong?

Each problem's entry points are called on many inputs and compared with PyTorch in float64
(F.conv2d, F.conv_transpose2d, F.max_pool2d, F.avg_pool2d, autograd for backwards), with
closed-form arithmetic for p03/p04, and with PyTorch's own OpInfo sample inputs
(``torch.testing._internal.common_methods_invocations.op_db``) where an OpInfo exists. Calls omit
optional arguments too (a wrong default must show), and geometry is non-square, grouped, dilated.

The mutant is imported and run in a forked child with a time limit and an address-space limit;
the cases are built in the parent before the fork. The verdicts:
  wrong       some case differs from PyTorch (or the mutant raises, or hangs): ``case`` names the
              first such call, smallest cases first, and ``detail`` says how it differs
  equivalent  every case agrees
  unknown     the oracle cannot decide (p08/p09: accuracy is not an oracle we can afford per
              mutant; only a smoke test runs there)
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

F64 = torch.float64


@dataclass
class Case:
    """One call: ``run(module)`` returns None when the mutant agrees, else what differs."""

    name: str
    run: Callable[[Any], str | None]


class Skip(Exception):
    """PyTorch itself refuses this input: the case says nothing about the mutant."""


# --------------------------------------------------------------------------- comparison helpers

def differs(got, want, rtol=1e-7, atol=1e-9) -> str | None:
    """None if ``got`` equals ``want`` (tensors: shape, dtype and values within tolerance; ints:
    exactly and of type int; tuples: element by element), else a one-line description."""
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"returned {type(got).__name__}, expected a Tensor"
        if got.shape != want.shape:
            return f"shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        if got.dtype != want.dtype:
            return f"dtype {got.dtype}, expected {want.dtype}"
        if want.dtype in (torch.int64, torch.int32, torch.bool):
            return None if torch.equal(got, want) else f"values differ: {got.flatten()[:6].tolist()} vs {want.flatten()[:6].tolist()}"
        if not torch.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
            diff = (got - want).abs().nan_to_num(float("inf")).max().item()
            return f"values differ (max abs diff {diff:.3g})"
        return None
    if isinstance(want, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"returned {got!r}, expected {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            d = differs(g, w, rtol, atol)
            if d:
                return f"item {i}: {d}"
        return None
    if isinstance(want, bool) or want is None:
        return None if got is want or got == want else f"returned {got!r}, expected {want!r}"
    if isinstance(want, int):
        if type(got) is not int:
            return f"returned {got!r} ({type(got).__name__}), expected the int {want}"
        return None if got == want else f"returned {got}, expected {want}"
    if isinstance(want, float):
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return f"returned {got!r}, expected {want!r}"
        return None if abs(got - want) <= 1e-9 * max(1.0, abs(want)) else f"returned {got!r}, expected {want!r}"
    return None if got == want else f"returned {got!r}, expected {want!r}"


def _shape(t):
    return "x(" + ",".join(map(str, t.shape)) + ")" if isinstance(t, torch.Tensor) else repr(t)


def _call_text(fn: str, args, kwargs) -> str:
    parts = [_shape(a) for a in args] + [f"{k}={_shape(v)}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


def _expect(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # PyTorch refuses: not a case
        raise Skip(str(exc)) from exc


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(g, *shape, dtype=F64):
    return torch.randn(*shape, generator=g, dtype=F64).to(dtype)


def call_case(label: str, entry: str, args, kwargs, want_fn, *, rtol=1e-7, atol=1e-9, post=None) -> Case:
    """A case that calls ``module.entry(*args, **kwargs)`` and compares with ``want_fn()``."""
    def run(module):
        want = _expect(want_fn)
        got = getattr(module, entry)(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args], **kwargs)
        if post:
            got = post(got)
        return differs(got, want, rtol, atol)
    return Case(label or _call_text(entry, args, kwargs), run)


# --------------------------------------------------------------------------- OpInfo samples

_OPINFO_CACHE: dict[str, list] = {}


def opinfo_samples(op_name: str, limit: int = 40) -> list:
    """(input, args, kwargs) of PyTorch's OpInfo samples for ``op_name`` in float64, 4-D inputs
    only (the contracts are batched), at most ``limit`` distinct ones. Empty when
    torch.testing._internal cannot be imported (it needs the ``expecttest`` package)."""
    if op_name in _OPINFO_CACHE:
        return _OPINFO_CACHE[op_name]
    try:
        from torch.testing._internal.common_methods_invocations import op_db
    except Exception as exc:  # noqa: BLE001 - an optional source of cases
        print(f"audit: OpInfo samples unavailable ({type(exc).__name__}: {exc})", file=sys.stderr)
        _OPINFO_CACHE[op_name] = []
        return []
    out, seen = [], set()
    for info in op_db:
        if info.name != op_name or info.variant_test_name:
            continue
        for sample in info.sample_inputs("cpu", F64):
            if sample.input.dim() != 4:
                continue
            key = (tuple(sample.input.shape), repr([(tuple(a.shape) if isinstance(a, torch.Tensor) else a)
                                                    for a in sample.args]), repr(sample.kwargs))
            if key in seen:
                continue
            seen.add(key)
            out.append((sample.input.detach().clone(),
                        tuple(a.detach().clone() if isinstance(a, torch.Tensor) else a for a in sample.args),
                        dict(sample.kwargs)))
    if len(out) > limit:  # an even spread over the list (max_pool2d has about 1,400)
        step = len(out) / limit
        out = [out[int(i * step)] for i in range(limit)]
    _OPINFO_CACHE[op_name] = out
    return out


# --------------------------------------------------------------------------- convolution cases

# (x shape, weight shape, bias?, kwargs): defaults omitted first, then every feature non-square.
CONV2D_GEOMETRY = [
    ((1, 1, 3, 3), (1, 1, 2, 2), False, {}),
    ((2, 3, 5, 4), (4, 3, 3, 2), True, {}),
    ((1, 2, 7, 6), (3, 2, 3, 3), True, {"stride": 2}),
    ((1, 2, 7, 6), (3, 2, 3, 2), True, {"stride": (2, 1), "padding": (1, 0)}),
    ((1, 2, 6, 7), (2, 2, 2, 3), False, {"stride": (1, 3), "padding": (0, 2), "dilation": (2, 1)}),
    ((2, 4, 6, 5), (4, 2, 3, 2), True, {"groups": 2}),
    ((1, 2, 5, 6), (6, 1, 2, 3), True, {"groups": 2, "stride": (1, 2)}),
    ((1, 6, 5, 5), (6, 2, 2, 2), False, {"groups": 3, "dilation": (1, 2)}),
    ((1, 1, 2, 1), (2, 1, 2, 2), False, {"padding": "same", "dilation": (2, 1)}),
    ((1, 2, 5, 6), (3, 2, 2, 4), True, {"padding": "same"}),
    ((1, 2, 7, 5), (2, 2, 3, 2), False, {"padding": "same", "dilation": (1, 3)}),
    ((1, 2, 6, 5), (2, 2, 3, 2), True, {"padding": "valid", "stride": 2}),
    ((2, 3, 4, 5), (4, 3, 1, 1), True, {"padding": 2}),
    ((1, 1, 3, 1), (2, 1, 1, 1), False, {"stride": (2, 1), "padding": 1, "dilation": (2, 1)}),
    ((2, 4, 3, 5), (4, 2, 1, 1), True, {"groups": 2}),
    ((1, 2, 4, 3), (3, 2, 4, 3), True, {}),
    ((1, 2, 5, 4), (2, 2, 2, 2), True, {"stride": 1, "padding": 1, "dilation": 1, "groups": 1}),
    # kernels with one side 1, and a 1x1 kernel with an even stride: where a 1x1 fast path's test
    # (kh == kw == 1 and sh == sw == 1) can go wrong
    ((1, 2, 5, 4), (3, 2, 3, 1), True, {}),
    ((1, 2, 4, 5), (2, 2, 1, 3), False, {"padding": (0, 1)}),
    ((1, 2, 5, 6), (3, 2, 1, 1), True, {"stride": 2}),
    ((1, 2, 5, 6), (3, 2, 1, 1), False, {"stride": (1, 2), "padding": (1, 0)}),
    # 1x1 grouped with a batch size other than the group count (N=1, N=3 with groups=2)
    ((1, 4, 3, 5), (4, 2, 1, 1), True, {"groups": 2}),
    ((3, 4, 2, 3), (6, 2, 1, 1), False, {"groups": 2}),
]


def conv2d_cases(entry: str, seed: int = 0, use_opinfo: bool = True) -> list[Case]:
    """conv2d-like entry points (p01 conv2d, p07 conv2d_fast) against F.conv2d in float64."""
    g = _gen(seed)
    cases = []
    for xs, ws, bias, kw in CONV2D_GEOMETRY:
        x, w = _randn(g, *xs), _randn(g, *ws)
        b = _randn(g, ws[0]) if bias else None
        args = (x, w, b) if bias else (x, w)
        cases.append(call_case("", entry, args, kw, lambda x=x, w=w, b=b, kw=kw: F.conv2d(x, w, b, **kw)))
    # All positional, and the output dtype for float32 input.
    x, w, b = _randn(g, 1, 2, 6, 5), _randn(g, 4, 1, 3, 2), _randn(g, 4)
    cases.append(call_case(f"{entry}(x(1,2,6,5), w(4,1,3,2), b, (2,1), (1,2), (1,2), 2) [positional]",
                           entry, (x, w, b, (2, 1), (1, 2), (1, 2), 2), {},
                           lambda: F.conv2d(x, w, b, (2, 1), (1, 2), (1, 2), 2)))
    x32, w32 = _randn(g, 1, 2, 5, 5, dtype=torch.float32), _randn(g, 2, 2, 3, 3, dtype=torch.float32)
    cases.append(call_case("", entry, (x32, w32), {"padding": 1}, lambda: F.conv2d(x32, w32, padding=1),
                           rtol=1e-4, atol=1e-5))
    if use_opinfo:
        for inp, args, kwargs in opinfo_samples("nn.functional.conv2d"):
            cases.append(call_case("OpInfo " + _call_text(entry, (inp,) + args, kwargs), entry, (inp,) + args,
                                   kwargs, lambda i=inp, a=args, k=kwargs: F.conv2d(i, *a, **k)))
    return cases


CONV_T_GEOMETRY = [
    ((1, 1, 2, 2), (1, 1, 2, 2), False, {}),
    ((2, 3, 3, 4), (3, 2, 3, 2), True, {}),
    ((1, 2, 3, 3), (2, 3, 3, 3), True, {"stride": 2}),
    ((1, 2, 3, 4), (2, 2, 3, 2), True, {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2)}),
    ((1, 2, 4, 3), (2, 2, 2, 3), False, {"dilation": (2, 1), "padding": (0, 1)}),
    ((1, 4, 3, 3), (4, 3, 2, 3), True, {"groups": 2, "stride": (1, 2)}),
    ((1, 2, 3, 3), (2, 1, 3, 2), False, {"stride": 1, "dilation": 3, "output_padding": 2}),
    ((2, 6, 2, 3), (6, 1, 2, 2), True, {"groups": 3, "stride": 2, "padding": 1, "output_padding": 1}),
]


def conv_transpose2d_cases(entry: str, seed: int = 0, use_opinfo: bool = True) -> list[Case]:
    g = _gen(seed)
    cases = []
    for xs, ws, bias, kw in CONV_T_GEOMETRY:
        x, w = _randn(g, *xs), _randn(g, *ws)
        b = _randn(g, ws[1] * kw.get("groups", 1)) if bias else None
        args = (x, w, b) if bias else (x, w)
        cases.append(call_case("", entry, args, kw, lambda x=x, w=w, b=b, kw=kw: F.conv_transpose2d(x, w, b, **kw)))
    x, w, b = _randn(g, 1, 2, 3, 2), _randn(g, 2, 2, 2, 3), _randn(g, 4)
    cases.append(call_case(f"{entry}(x(1,2,3,2), w(2,2,2,3), b, (2,1), (1,0), (1,0), 2, (1,2)) [positional]",
                           entry, (x, w, b, (2, 1), (1, 0), (1, 0), 2, (1, 2)), {},
                           lambda: F.conv_transpose2d(x, w, b, (2, 1), (1, 0), (1, 0), 2, (1, 2))))
    x32, w32 = _randn(g, 1, 2, 3, 3, dtype=torch.float32), _randn(g, 2, 1, 2, 2, dtype=torch.float32)
    cases.append(call_case("", entry, (x32, w32), {"stride": 2}, lambda: F.conv_transpose2d(x32, w32, stride=2),
                           rtol=1e-4, atol=1e-5))
    if use_opinfo:
        for inp, args, kwargs in opinfo_samples("nn.functional.conv_transpose2d"):
            cases.append(call_case("OpInfo " + _call_text(entry, (inp,) + args, kwargs), entry, (inp,) + args,
                                   kwargs, lambda i=inp, a=args, k=kwargs: F.conv_transpose2d(i, *a, **k)))
    return cases


# --------------------------------------------------------------------------- per problem

def _p01(seed, use_opinfo):
    g = _gen(seed)
    cases = []
    for hs, ks in [((3, 3), (2, 2)), ((5, 7), (2, 3)), ((6, 4), (3, 1)), ((3, 3), (3, 3)), ((4, 5), (1, 1))]:
        img, k = _randn(g, *hs), _randn(g, *ks)
        cases.append(call_case("", "cross_correlate2d", (img, k), {},
                               lambda img=img, k=k: F.conv2d(img[None, None], k[None, None])[0, 0]))
        cases.append(call_case("", "convolve2d", (img, k), {},
                               lambda img=img, k=k: F.conv2d(img[None, None], k.flip(0, 1)[None, None])[0, 0]))
    return cases + conv2d_cases("conv2d", seed, use_opinfo)


def _p02(seed, use_opinfo):
    def reference_forward(model, x):
        sd = dict(model.named_parameters())
        y = F.max_pool2d(F.relu(F.conv2d(x, sd["conv1.weight"], sd["conv1.bias"], padding=1)), 2)
        y = F.max_pool2d(F.relu(F.conv2d(y, sd["conv2.weight"], sd["conv2.bias"], padding=1)), 2)
        return F.linear(torch.flatten(F.adaptive_avg_pool2d(y, 4), 1), sd["fc.weight"], sd["fc.bias"])

    def case(ctor_args, shape):
        def run(module):
            torch.manual_seed(seed)
            model = module.SimpleCNN(*ctor_args).double()
            c = ctor_args[0] if ctor_args else 1
            k = ctor_args[1] if len(ctor_args) > 1 else 10
            want_shapes = {"conv1.weight": (16, c, 3, 3), "conv1.bias": (16,), "conv2.weight": (32, 16, 3, 3),
                           "conv2.bias": (32,), "fc.weight": (k, 512), "fc.bias": (k,)}
            got_shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
            if got_shapes != want_shapes:
                return f"parameters {got_shapes}, expected {want_shapes}"
            x = torch.randn(*shape, generator=_gen(seed + 1), dtype=F64)
            got = model(x)
            want = reference_forward(model, x)
            d = differs(got, want)
            if d:
                return d
            r = torch.randn(want.shape, generator=_gen(seed + 2), dtype=F64)
            params = list(model.parameters())
            got_g = torch.autograd.grad((got * r).sum(), params, allow_unused=True)
            want_g = torch.autograd.grad((reference_forward(model, x) * r).sum(), params)
            for (name, _), gg, wg in zip(model.named_parameters(), got_g, want_g):
                if gg is None:
                    return f"no gradient reaches {name}"
                d = differs(gg, wg)
                if d:
                    return f"gradient of {name}: {d}"
            return None
        return Case(f"SimpleCNN{tuple(ctor_args)} on x{shape}", run)

    return [case((), (2, 1, 28, 28)), case((), (1, 1, 5, 13)), case((3, 7), (2, 3, 8, 12)),
            case((2,), (1, 2, 17, 9)), case((1, 4), (3, 1, 4, 4))]


def _p03(seed, use_opinfo):
    import itertools
    import random

    def conv_out(size, k, s, p, d):
        return (size + 2 * p - d * (k - 1) - 1) // s + 1

    def t_out(size, k, s, p, op, d):
        return (size - 1) * s - 2 * p + d * (k - 1) + op + 1

    def value_case(label, fn, args, kwargs, want):
        def run(module):
            try:
                got = getattr(module, fn)(*args, **kwargs)
            except ValueError:
                return None if want is None else f"raised ValueError, expected {want!r}"
            if want is None:
                return f"returned {got!r}, expected ValueError (empty output)"
            return differs(tuple(got) if isinstance(got, list) else got, want)
        return Case(label or _call_text(fn, args, kwargs), run)

    def batch(label, items):
        """Many calls as one case (the first failing call names itself)."""
        def run(module):
            for case in items:
                d = case.run(module)
                if d:
                    return f"{case.name}: {d}"
            return None
        return Case(label, run)

    defaults = {"stride": 1, "padding": 0, "dilation": 1}
    conv_items, t_items = [], []
    for size, k, s, p, d in itertools.product(range(1, 9), range(1, 5), range(1, 4), range(0, 3), range(1, 4)):
        out = conv_out(size, k, s, p, d)
        kw = {n: v for n, v in zip(("stride", "padding", "dilation"), (s, p, d)) if v != defaults[n]}
        conv_items.append(value_case("", "conv_output_size", (size, k), kw, out if out >= 1 else None))
        for op in range(0, max(s, d)):
            tout = t_out(size, k, s, p, op, d)
            tkw = dict(kw, **({"output_padding": op} if op else {}))
            t_items.append(value_case("", "transposed_output_size", (size, k), tkw, tout if tout >= 1 else None))
    conv_items.append(value_case("", "conv_output_size", (7, 3, 2, 1, 1), {}, 4))
    t_items.append(value_case("", "transposed_output_size", (4, 3, 2, 1, 1, 1), {}, 8))
    cases = [batch("conv_output_size grid (defaults omitted)", conv_items),
             batch("transposed_output_size grid (defaults omitted)", t_items)]
    cases.append(batch("effective_kernel_size grid", [
        value_case("", "effective_kernel_size", (k, d), {}, d * (k - 1) + 1) for k in range(1, 7) for d in range(1, 5)]))
    same = []
    for k in range(1, 8):
        for d in range(1, 4):
            total = d * (k - 1)
            want = (total // 2, total - total // 2)
            same.append(value_case("", "same_padding", (k,), {"dilation": d} if d != 1 else {}, want))
    cases.append(batch("same_padding grid (dilation omitted when 1)", same))
    rng = random.Random(seed)
    fields = []
    for n in range(0, 6):
        for _ in range(6):
            layers = []
            for _ in range(n):
                layer = {"kernel_size": rng.randint(1, 5)}
                if rng.random() < 0.6:
                    layer["stride"] = rng.randint(1, 3)
                if rng.random() < 0.5:
                    layer["dilation"] = rng.randint(1, 3)
                layers.append(layer)
            rf, jump = 1, 1
            for layer in layers:
                rf += (layer["kernel_size"] - 1) * layer.get("dilation", 1) * jump
                jump *= layer.get("stride", 1)
            fields.append(value_case(f"receptive_field({layers})", "receptive_field", (layers,), {}, rf))
    cases.append(batch("receptive_field on random stacks", fields))
    return cases


def _p04(seed, use_opinfo):
    def pair(k):
        return (k, k) if isinstance(k, int) else k

    def params(i, o, k, groups=1, bias=True):
        conv = nn.Conv2d(i, o, k, groups=groups, bias=bias)
        return sum(p.numel() for p in conv.parameters())

    def macs(i, o, k, oh, ow, groups=1):
        kh, kw = pair(k)
        return oh * ow * o * (i // groups) * kh * kw

    cases = []
    for i, o, k in [(2, 4, 3), (4, 6, (2, 3)), (3, 3, 1), (6, 4, (3, 1)), (1, 5, 2)]:
        for groups in (1, 2, 3):
            if i % groups or o % groups:
                continue
            for bias in (None, True, False):
                kw = ({"groups": groups} if groups != 1 else {}) | ({"bias": bias} if bias is not None else {})
                cases.append(call_case("", "conv_params", (i, o, k), kw,
                                       lambda i=i, o=o, k=k, g=groups, b=bias: params(i, o, k, g, b is not False)))
            kw = {"groups": groups} if groups != 1 else {}
            cases.append(call_case("", "conv_macs", (i, o, k, 3, 5), kw,
                                   lambda i=i, o=o, k=k, g=groups: macs(i, o, k, 3, 5, g)))
        for m in (None, 1, 2, 3):
            for bias in (None, True, False):
                kw = ({"depth_multiplier": m} if m else {}) | ({"bias": bias} if bias is not None else {})
                mm, bb = m or 1, bias is not False
                cases.append(call_case("", "separable_params", (i, o, k), kw,
                                       lambda i=i, o=o, k=k, mm=mm, bb=bb: params(i, i * mm, k, i, bb) + params(i * mm, o, 1, 1, bb)))
            kw = {"depth_multiplier": m} if m else {}
            cases.append(call_case("", "separable_macs", (i, o, k, 4, 2), kw,
                                   lambda i=i, o=o, k=k, mm=m or 1: macs(i, i * mm, k, 4, 2, i) + macs(i * mm, o, 1, 4, 2)))
        cases.append(call_case("", "cost_ratio", (i, o, k), {},
                               lambda i=i, o=o, k=k: macs(i, o, k, 1, 1) / (macs(i, i, k, 1, 1, i) + macs(i, o, 1, 1, 1))))
    cases.append(call_case("", "cost_ratio", (128, 128, 3), {}, lambda: 1 / (1 / 128 + 1 / 9)))
    return cases


def _p05(seed, use_opinfo):
    def case(args, kwargs, shape):
        def run(module):
            torch.manual_seed(seed)
            layer = module.DepthwiseSeparableConv2d(*args, **kwargs).double()
            full = dict(zip(("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
                             "bias", "depth_multiplier"), args)) | kwargs
            cin, cout, k = full["in_channels"], full["out_channels"], full["kernel_size"]
            kh, kw = (k, k) if isinstance(k, int) else k
            m, bias = full.get("depth_multiplier", 1), full.get("bias", True)
            dw, pw = layer.depthwise, layer.pointwise
            if tuple(dw.weight.shape) != (cin * m, 1, kh, kw) or tuple(pw.weight.shape) != (cout, cin * m, 1, 1):
                return f"weights {tuple(dw.weight.shape)} and {tuple(pw.weight.shape)}"
            if (dw.bias is not None) != bias or (pw.bias is not None) != bias:
                return f"biases present: {dw.bias is not None}, {pw.bias is not None}; bias={bias}"
            want_count = cin * m * kh * kw + cin * m * cout + ((cin * m + cout) if bias else 0)
            count = sum(p.numel() for p in layer.parameters())
            if count != want_count:
                return f"{count} parameters, expected {want_count}"
            x = torch.randn(*shape, generator=_gen(seed + 1), dtype=F64)
            want = F.conv2d(F.conv2d(x, dw.weight, dw.bias, full.get("stride", 1), full.get("padding", 0),
                                     full.get("dilation", 1), cin), pw.weight, pw.bias)
            got = layer(x)
            d = differs(got, want)
            if d:
                return d
            grads = torch.autograd.grad(got.sum(), list(layer.parameters()), allow_unused=True)
            return "a parameter gets no gradient" if any(gr is None for gr in grads) else None
        return Case(f"DepthwiseSeparableConv2d{tuple(args)}{kwargs or ''} on x{shape}", run)

    return [case((2, 4, 3), {}, (1, 2, 6, 6)),
            case((3, 5, (3, 2)), {"stride": (2, 1), "padding": (1, 0)}, (2, 3, 7, 6)),
            case((2, 3, 3), {"dilation": 2, "padding": 2, "depth_multiplier": 2}, (1, 2, 7, 8)),
            case((4, 2, 2), {"bias": False, "stride": 2}, (1, 4, 6, 5)),
            case((2, 3, 3, 1, 1, 1, True, 3), {}, (1, 2, 5, 5)),
            case((3, 2, 1), {}, (1, 3, 4, 3))]


def _p06(seed, use_opinfo):
    import copy

    def small_model():
        torch.manual_seed(seed)
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))

    def recipe(model, inputs, targets, loss_fn, optimizer, scaler, dtype):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=inputs.device.type, dtype=dtype):
            loss = loss_fn(model(inputs), targets)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        return loss.item()

    def step_case(label, dtype, loss_scale, stale, optimizer_kind, init_scale=2.0 ** 16):
        def run(module):
            model = small_model()
            g = _gen(seed + 3)
            x = torch.randn(6, 1, 6, 6, generator=g)
            y = torch.randint(0, 3, (6,), generator=g)

            def loss_fn(out, t):
                return F.cross_entropy(out, t) * loss_scale

            results = []
            for step in (getattr(module, "train_step"), recipe):
                m = copy.deepcopy(model)
                opt = (torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) if optimizer_kind == "sgd"
                       else torch.optim.AdamW(m.parameters(), lr=1e-2))
                scaler = torch.amp.GradScaler("cpu", enabled=dtype == torch.float16, init_scale=init_scale)
                if stale:
                    for p in m.parameters():
                        p.grad = torch.ones_like(p)
                with torch.no_grad():
                    pass
                losses = [step(m, x, y, loss_fn, opt, scaler, dtype) for _ in range(2)]
                results.append((losses, [p.detach().clone() for p in m.parameters()], scaler.get_scale()
                                if scaler.is_enabled() else None))
            (got_l, got_p, got_s), (want_l, want_p, want_s) = results
            if not all(isinstance(v, float) for v in got_l):
                return f"returned {got_l!r}, expected Python floats"
            if any(abs(a - b) > 1e-5 * max(1, abs(b)) for a, b in zip(got_l, want_l)
                   if not (a != a and b != b)):
                return f"losses {got_l}, expected {want_l}"
            for i, (a, b) in enumerate(zip(got_p, want_p)):
                d = differs(a, b, rtol=1e-4, atol=1e-6)
                if d:
                    return f"parameter {i} after two steps: {d}"
            if got_s != want_s:
                return f"scale {got_s}, expected {want_s}"
            return None
        return Case(label, run)

    def train_case(epochs, batches):
        def run(module):
            model = small_model()
            g = _gen(seed + 5)
            centers = torch.randn(3, 1, 6, 6, generator=g) * 2
            data = []
            for _ in range(batches):
                y = torch.randint(0, 3, (8,), generator=g)
                data.append((centers[y] + 0.3 * torch.randn(8, 1, 6, 6, generator=g), y))
            seen = []
            model.register_forward_hook(lambda mod, inp, out: seen.append(out.detach().float()))
            history = module.train(model, data, epochs, torch.device("cpu"))
            if not isinstance(history, list) or len(history) != epochs or not all(isinstance(v, float) for v in history):
                return f"returned {history!r}, expected a list of {epochs} floats"
            if len(seen) != epochs * batches:
                return f"{len(seen)} forward passes, expected {epochs * batches}"
            for e in range(epochs):
                batch_losses = [F.cross_entropy(seen[e * batches + b], data[b][1]).item() for b in range(batches)]
                mean = sum(batch_losses) / batches
                if abs(history[e] - mean) > 2e-2 * max(1.0, abs(mean)):
                    return f"epoch {e} mean {history[e]:.4f}, the batches' losses average {mean:.4f}"
            if not history[-1] < 0.9 * history[0]:
                return f"loss does not fall: {history}"
            return None
        return Case(f"train(model, {batches} batches of 8, epochs={epochs})", run)

    def dtype_case(module):
        got = (module.autocast_dtype("cpu"), module.autocast_dtype("cuda"))
        return None if got == (torch.bfloat16, torch.float16) else f"autocast_dtype gave {got}"

    def scaler_case(module):
        for dtype, enabled in ((torch.bfloat16, False), (torch.float16, True), (torch.float32, False)):
            s = module.make_scaler("cpu", dtype)
            if not isinstance(s, torch.amp.GradScaler) or s.is_enabled() != enabled or s._device != "cpu":
                return f"make_scaler('cpu', {dtype}) enabled={getattr(s, 'is_enabled', lambda: '?')()}, expected {enabled}"
        return None

    return [Case("autocast_dtype('cpu'/'cuda')", dtype_case), Case("make_scaler('cpu', bf16/fp16/fp32)", scaler_case),
            step_case("train_step bf16, SGD, stale grads of ones", torch.bfloat16, 1.0, True, "sgd"),
            step_case("train_step bf16, loss x1000 (clipping matters), AdamW", torch.bfloat16, 1000.0, False, "adamw"),
            step_case("train_step fp16 + enabled scaler at 2**16, SGD", torch.float16, 1.0, True, "sgd"),
            step_case("train_step fp16, scale 2**40 (overflow: step skipped, scale halved)", torch.float16, 1.0,
                      False, "sgd", init_scale=2.0 ** 40),
            step_case("train_step bf16, loss inf", torch.bfloat16, float("inf"), False, "sgd"),
            train_case(3, 4)]


def _p10(seed, use_opinfo):
    import copy
    import itertools
    g = _gen(seed)
    cases = []

    def fwd_bwd(xs, ws, kw, mask, via_apply=False):
        x, w, b = _randn(g, *xs), _randn(g, *ws), _randn(g, ws[0])
        r = None

        def run(module):
            nonlocal r
            ins = [t.clone().requires_grad_(m) for t, m in zip((x, w, b), mask)]
            want = F.relu(F.conv2d(ins[0], ins[1], ins[2], kw.get("stride", 1), kw.get("padding", 0)))
            r_ = torch.randn(want.shape, generator=_gen(seed + 9), dtype=F64)
            wanted = [t for t, m in zip(ins, mask) if m]
            want_g = torch.autograd.grad((want * r_).sum(), wanted) if wanted else ()
            ins2 = [t.clone().detach().requires_grad_(m) for t, m in zip((x, w, b), mask)]
            if via_apply:
                got = module.Conv2dBiasReLU.apply(*ins2, *[kw[k] for k in ("stride", "padding") if k in kw])
            else:
                got = module.conv_bias_relu(*ins2, **kw)
            d = differs(got, want.detach())
            if d:
                return d
            wanted2 = [t for t, m in zip(ins2, mask) if m]
            if not wanted2:
                return None
            got_g = torch.autograd.grad((got * r_).sum(), wanted2, allow_unused=True)
            for name, gg, wg in zip([n for n, m in zip("xwb", mask) if m], got_g, want_g):
                if gg is None:
                    return f"no gradient for {name}"
                d = differs(gg, wg)
                if d:
                    return f"grad of {name}: {d}"
            return None
        return Case(f"{'Conv2dBiasReLU.apply' if via_apply else 'conv_bias_relu'}(x{xs}, w{ws}, b, {kw}) "
                    f"requires_grad={''.join(n for n, m in zip('xwb', mask) if m) or 'none'}", run)

    for xs, ws, kw in [((1, 2, 4, 4), (3, 2, 2, 2), {}), ((2, 3, 6, 5), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
                       ((1, 2, 7, 6), (2, 2, 3, 3), {"stride": (2, 1), "padding": (0, 1)})]:
        for mask in itertools.product((True, False), repeat=3):
            cases.append(fwd_bwd(xs, ws, kw, mask))
    cases.append(fwd_bwd((1, 2, 5, 5), (2, 2, 3, 3), {"stride": 2}, (True, True, True), via_apply=True))
    cases.append(fwd_bwd((1, 2, 4, 4), (2, 2, 3, 3), {}, (True, True, True), via_apply=True))

    def fold_case(conv_kw, eps):
        def run(module):
            torch.manual_seed(seed)
            conv = nn.Conv2d(**conv_kw).double()
            bn = nn.BatchNorm2d(conv_kw["out_channels"], eps=eps).double().eval()
            with torch.no_grad():
                bn.running_mean.normal_()
                bn.running_var.uniform_(0.5, 2.0)
                bn.weight.normal_()
                bn.bias.normal_()
            before = (copy.deepcopy(conv.state_dict()), copy.deepcopy(bn.state_dict()))
            fused = module.fold_batchnorm(conv, bn)
            if not isinstance(fused, nn.Conv2d) or fused.bias is None:
                return f"returned {type(fused).__name__} with bias {getattr(fused, 'bias', None) is not None}"
            x = torch.randn(2, conv_kw["in_channels"], 7, 6, generator=_gen(seed + 1), dtype=F64)
            d = differs(fused(x), bn(conv(x)))
            if d:
                return d
            after = (conv.state_dict(), bn.state_dict())
            for b_sd, a_sd in zip(before, after):
                if b_sd.keys() != a_sd.keys() or any(not torch.equal(b_sd[k], a_sd[k]) for k in b_sd):
                    return "conv or bn was changed"
            return None
        return Case(f"fold_batchnorm(Conv2d({conv_kw}), BatchNorm2d(eps={eps}))", run)

    cases += [fold_case(dict(in_channels=2, out_channels=3, kernel_size=3), 1e-5),
              fold_case(dict(in_channels=2, out_channels=4, kernel_size=(3, 2), bias=False, stride=2, padding=1), 1e-3),
              fold_case(dict(in_channels=4, out_channels=4, kernel_size=2, dilation=2, groups=2), 0.1)]

    for (c0, c1, c2), k1, k2, b1, b2 in [((1, 1, 1), (1, 2), (2, 1), True, True), ((2, 3, 4), (2, 3), (3, 1), True, True),
                                         ((2, 3, 2), (3, 3), (2, 2), False, True), ((3, 2, 2), (1, 2), (2, 3), True, False),
                                         ((2, 2, 3), (2, 2), (1, 1), False, False)]:
        w1, w2 = _randn(g, c1, c0, *k1), _randn(g, c2, c1, *k2)
        bb1 = _randn(g, c1) if b1 else None
        bb2 = _randn(g, c2) if b2 else None
        x = _randn(g, 2, c0, 7, 8)

        def run(module, w1=w1, w2=w2, bb1=bb1, bb2=bb2, x=x):
            w, b = module.compose_linear_convs(w1.clone(), None if bb1 is None else bb1.clone(), w2.clone(),
                                               None if bb2 is None else bb2.clone())
            return differs(F.conv2d(x, w, b), F.conv2d(F.conv2d(x, w1, bb1), w2, bb2))
        cases.append(Case(f"compose_linear_convs(w1{tuple(w1.shape)}, b1={'yes' if b1 else None}, "
                          f"w2{tuple(w2.shape)}, b2={'yes' if b2 else None})", run))
    return cases


def _p07(seed, use_opinfo):
    return conv2d_cases("conv2d_fast", seed, use_opinfo)


def _p11(seed, use_opinfo):
    return conv_transpose2d_cases("conv_transpose2d", seed, use_opinfo)


def _p12(seed, use_opinfo):
    g = _gen(seed)
    cases = []
    for xs, ws, kw in [((1, 1, 3, 3), (1, 1, 2, 2), {}), ((2, 3, 5, 4), (4, 3, 3, 2), {}),
                       ((1, 2, 7, 6), (3, 2, 3, 3), {"stride": 2}),
                       ((2, 2, 6, 7), (3, 2, 2, 3), {"stride": (2, 3), "padding": (0, 2)}),
                       ((1, 2, 7, 5), (2, 2, 3, 2), {"dilation": (2, 1), "padding": (1, 0)}),
                       ((1, 3, 8, 6), (2, 3, 3, 3), {"stride": (3, 2), "padding": 1, "dilation": (1, 2)}),
                       ((1, 2, 5, 5), (2, 2, 5, 5), {"padding": 2})]:
        x, w, b = _randn(g, *xs), _randn(g, *ws), _randn(g, ws[0])
        out = F.conv2d(x, w, b, **kw)
        go = _randn(g, *out.shape)

        def want(x=x, w=w, b=b, kw=kw, go=go):
            xx, ww, bb = (t.clone().requires_grad_() for t in (x, w, b))
            return torch.autograd.grad((F.conv2d(xx, ww, bb, **kw) * go).sum(), (xx, ww, bb))
        cases.append(call_case("", "conv2d_backward", (go, x, w), kw, want))
    x, w = _randn(g, 1, 2, 6, 6), _randn(g, 2, 2, 2, 2)
    go = _randn(g, *F.conv2d(x, w, None, (2, 1), (1, 0), (1, 2)).shape)

    def want_pos():
        xx, ww = x.clone().requires_grad_(), w.clone().requires_grad_()
        gx, gw = torch.autograd.grad((F.conv2d(xx, ww, None, (2, 1), (1, 0), (1, 2)) * go).sum(), (xx, ww))
        return gx, gw, go.sum(dim=(0, 2, 3))
    cases.append(call_case("conv2d_backward(go, x(1,2,6,6), w(2,2,2,2), (2,1), (1,0), (1,2)) [positional]",
                           "conv2d_backward", (go, x, w, (2, 1), (1, 0), (1, 2)), {}, want_pos))
    return cases


def _p13(seed, use_opinfo):
    g = _gen(seed)
    cases = []

    def matrix(w, shape, stride, padding):
        c, h, wd = shape
        eye = torch.eye(c * h * wd, dtype=w.dtype).reshape(-1, c, h, wd)
        cols = F.conv2d(eye, w, None, stride, padding)  # column j = conv of basis vector j
        return cols.reshape(c * h * wd, -1).T.contiguous()

    for ws, shape, kw, as_size in [((1, 1, 2, 2), (1, 3, 3), {}, False), ((2, 3, 2, 3), (3, 4, 5), {}, True),
                                   ((3, 2, 3, 2), (2, 6, 5), {"stride": 2}, False),
                                   ((2, 2, 3, 3), (2, 5, 6), {"stride": (2, 1), "padding": (0, 2)}, True),
                                   ((2, 1, 2, 3), (1, 5, 4), {"padding": 1}, False),
                                   ((1, 2, 3, 1), (2, 4, 3), {"stride": (1, 3), "padding": (2, 0)}, False)]:
        w = _randn(g, *ws)
        arg = torch.Size(shape) if as_size else shape
        cases.append(call_case("", "conv_matrix", (w, arg), kw,
                               lambda w=w, shape=shape, kw=kw: matrix(w, shape, kw.get("stride", 1), kw.get("padding", 0))))
    w = _randn(g, 2, 2, 2, 2)
    cases.append(call_case("conv_matrix(w(2,2,2,2), (2,5,4), (2,1), (1,0)) [positional]", "conv_matrix",
                           (w, (2, 5, 4), (2, 1), (1, 0)), {}, lambda: matrix(w, (2, 5, 4), (2, 1), (1, 0))))
    w32 = _randn(g, 1, 1, 2, 2, dtype=torch.float32)
    cases.append(call_case("", "conv_matrix", (w32, (1, 3, 3)), {}, lambda: matrix(w32, (1, 3, 3), 1, 0),
                           rtol=1e-5, atol=1e-6))
    return cases


def _p14(seed, use_opinfo):
    g = _gen(seed)
    cases = []
    ex = torch.tensor([[[[1.0, 3, 3], [3, 2, 1], [0, 3, 3]]]], dtype=F64)
    max_geom = [((1, 1, 4, 4), (2,), {}), ((2, 3, 6, 5), (3,), {"stride": 2}),
                ((1, 2, 7, 6), ((3, 2),), {"stride": (2, 1), "padding": (1, 0)}),
                ((1, 2, 7, 8), ((2, 3),), {"stride": (1, 2), "dilation": (2, 1), "padding": (1, 1)}),
                ((1, 1, 6, 7), (3,), {"stride": (2, 1), "padding": (1, 1), "ceil_mode": True}),
                ((1, 2, 5, 6), ((3, 1),), {"stride": 2, "padding": (1, 0), "ceil_mode": True}),
                ((1, 1, 5, 5), (2,), {"stride": 2, "ceil_mode": True}),
                ((1, 1, 7, 5), (3,), {"stride": None, "dilation": (1, 2), "padding": 1})]
    for xs, args, kw in max_geom:
        x = _randn(g, *xs) - 3.0  # all-negative mostly: -inf padding must never win
        for ri in (False, True):
            k2 = dict(kw, return_indices=True) if ri else kw
            cases.append(call_case("", "max_pool2d", (x,) + args, k2,
                                   lambda x=x, a=args, k=k2: F.max_pool2d(x, *a, **k)))
    cases.append(call_case("max_pool2d(ties example, 2, 1, return_indices=True)", "max_pool2d", (ex, 2, 1),
                           {"return_indices": True}, lambda: F.max_pool2d(ex, 2, 1, return_indices=True)))
    avg_geom = [((1, 1, 4, 4), (2,), {}), ((2, 3, 6, 5), (3,), {"stride": 2}),
                ((1, 2, 5, 7), ((1, 3),), {"stride": (2, 3), "padding": (0, 1)}),
                ((1, 2, 6, 5), ((3, 2),), {"stride": (2, 1), "padding": (1, 1), "ceil_mode": True}),
                ((1, 1, 5, 6), (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
                ((1, 1, 6, 6), (3,), {"stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": True}),
                ((1, 1, 6, 7), ((2, 3),), {"stride": (2, 2), "padding": (1, 1), "ceil_mode": True,
                                           "count_include_pad": False}),
                ((1, 2, 5, 5), (3,), {"stride": None, "padding": 1})]
    for xs, args, kw in avg_geom:
        x = _randn(g, *xs)
        cases.append(call_case("", "avg_pool2d", (x,) + args, kw, lambda x=x, a=args, k=kw: F.avg_pool2d(x, *a, **k)))
    cases.append(call_case("", "avg_pool2d", (ex, 2, 1), {}, lambda: F.avg_pool2d(ex, 2, 1)))
    for xs, args, kw in [((1, 1, 4, 4), (2,), {}), ((2, 2, 6, 5), (3,), {"stride": 2}),
                         ((1, 2, 6, 5), ((3, 1),), {"stride": (1, 2), "padding": (1, 0)}),
                         ((1, 1, 5, 7), ((2, 3),), {"stride": 1, "padding": (1, 1)}),
                         ((1, 1, 3, 3), (2,), {"stride": 1})]:
        x = ex.clone() if xs == (1, 1, 3, 3) else _randn(g, *xs) - 3.0
        out = F.max_pool2d(x, *args, **kw)
        go = _randn(g, *out.shape)

        def want(x=x, a=args, k=kw, go=go):
            xx = x.clone().requires_grad_()
            return torch.autograd.grad((F.max_pool2d(xx, *a, **k) * go).sum(), xx)[0]
        cases.append(call_case("", "max_pool2d_backward", (go, x) + args, kw, want))
    if use_opinfo:
        for inp, args, kwargs in opinfo_samples("nn.functional.max_pool2d", limit=30):
            cases.append(call_case("OpInfo " + _call_text("max_pool2d", (inp,) + args, kwargs), "max_pool2d",
                                   (inp,) + args, kwargs, lambda i=inp, a=args, k=kwargs: F.max_pool2d(i, *a, **k)))
        names = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
        for inp, args, kwargs in opinfo_samples("nn.functional.avg_pool2d"):
            full = dict(zip(names, args)) | kwargs
            if full.pop("divisor_override", None) is not None:
                continue  # not in the contract
            for key in ("stride", "padding"):  # PyTorch's () and (p,) spellings: the contract's None / int
                if full.get(key) == ():
                    full[key] = None
                elif isinstance(full.get(key), tuple) and len(full[key]) == 1:
                    full[key] = full[key][0]
            cases.append(call_case("OpInfo " + _call_text("avg_pool2d", (inp,), full), "avg_pool2d", (inp,), full,
                                   lambda i=inp, k=full: F.avg_pool2d(i, **k)))
    return cases


def _p15(seed, use_opinfo):
    g = _gen(seed)
    cases = []
    for xs, ks, bias, kw in [((1, 1, 3, 3), (2, 2), False, {}), ((1, 2, 6, 5), (3, 3), True, {"padding": 1}),
                             ((2, 2, 7, 6), (3, 2), True, {"stride": (2, 1), "padding": (1, 0)}),
                             ((1, 2, 8, 9), (2, 3), False, {"stride": 2, "padding": (0, 2)})]:
        x = _randn(g, *xs, dtype=torch.float32)
        w = _randn(g, xs[1], 1, *ks, dtype=torch.float32)
        b = _randn(g, xs[1], dtype=torch.float32) if bias else None
        args = (x, w, b) if bias else (x, w)
        cases.append(call_case("", "depthwise_conv2d", args, kw,
                               lambda x=x, w=w, b=b, kw=kw: F.conv2d(x, w, b, groups=x.shape[1], **kw),
                               rtol=1e-4, atol=1e-5))
    return cases


def _training_smoke(kind):
    def cases(seed, use_opinfo):
        def run(module):
            torch.manual_seed(seed)
            if kind == "p08":
                model = module.build_model()
                images = (torch.rand(64, 28, 28, generator=_gen(seed)) * 255).to(torch.uint8)
                labels = torch.randint(0, 10, (64,), generator=_gen(seed))
                trained = module.train_model(model, images, labels, "cpu", 2.0)
                model = trained if isinstance(trained, nn.Module) else model
                classes = 10
            else:
                model = module.build_model(3, 10, 32)
                images = torch.rand(64, 3, 32, 32, generator=_gen(seed))
                labels = torch.randint(0, 10, (64,), generator=_gen(seed))
                trained = module.fit(model, images, labels, "cpu", 2.0)
                model = trained if isinstance(trained, nn.Module) else model
                classes = 10
            pred = module.predict(model, images[:10], "cpu")
            pred = torch.as_tensor(pred)
            if pred.shape != (10,) or pred.min() < 0 or pred.max() >= classes:
                return f"predict gave {pred!r}"
            raise Skip("smoke test passed; accuracy is left to the grader's training check")
        return [Case(f"{kind} smoke: build, train 2 s on 64 random images, predict 10", run)]
    return cases


PROBLEMS: dict[str, Callable[[int, bool], list[Case]]] = {
    "p01": _p01, "p02": _p02, "p03": _p03, "p04": _p04, "p05": _p05, "p06": _p06, "p07": _p07,
    "p08": _training_smoke("p08"), "p09": _training_smoke("p09"), "p10": _p10, "p11": _p11, "p12": _p12,
    "p13": _p13, "p14": _p14, "p15": _p15,
}


# --------------------------------------------------------------------------- the forked judge

def _import(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _child(path: str, name: str, cases: list[Case], env: dict, memory_mb: int) -> dict:
    # One intra-op thread: an OpenMP pool the parent used before the fork does not survive it, and
    # the child's first parallel op would wait on it for ever (seen when pytest ran torch first).
    torch.set_num_threads(1)
    os.environ.update(env)
    if "TRITON_INTERPRET" in env:
        # As the grader's worker does: triton was imported before the fork (torch.testing imports
        # it), with its @jit helpers built for the compiler; drop its pure-Python modules so the
        # mutant's import runs them again under the interpreter.
        for mod in list(sys.modules):
            if (mod == "triton" or mod.startswith("triton.")) and \
                    str(getattr(sys.modules[mod], "__file__", "") or "").endswith(".py"):
                del sys.modules[mod]
    if memory_mb:
        soft = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:
            current = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (current + memory_mb * 2 ** 20, soft[1]))
    try:
        module = _import(path, name)
    except BaseException as exc:  # noqa: BLE001 - any import failure is the mutant's
        return {"verdict": "wrong", "case": "import", "detail": f"{type(exc).__name__}: {exc}"}
    skipped = []
    for case in cases:
        try:
            detail = case.run(module)
        except Skip as skip:
            skipped.append(f"{case.name}: {skip}")
            continue
        except BaseException as exc:  # noqa: BLE001
            tb = traceback.extract_tb(exc.__traceback__)
            where = next((f"line {fr.lineno}" for fr in reversed(tb) if fr.filename == path), "")
            detail = f"raised {type(exc).__name__}: {str(exc)[:160]}" + (f" ({where})" if where else "")
        if detail:
            return {"verdict": "wrong", "case": case.name, "detail": detail}
    if skipped and len(skipped) == len(cases):
        return {"verdict": "unknown", "case": "", "detail": skipped[0][:300]}
    return {"verdict": "equivalent", "case": "",
            "detail": f"{len(cases) - len(skipped)} cases agree" + (f", {len(skipped)} refused by PyTorch" if skipped else "")}


def judge(path: str, name: str, cases: list[Case], timeout_s: float, env: dict | None = None,
          memory_mb: int = 3072) -> dict:
    """Run ``cases`` against the module at ``path`` in a forked child; a dict with ``verdict``
    (wrong | equivalent | unknown), ``case``, ``detail`` and ``seconds``. A child still running
    after ``timeout_s`` is killed: the mutant hangs (or is orders of magnitude slower), "wrong"."""
    start = time.monotonic()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        os.close(read)
        code = 0
        try:
            os.setpgid(0, 0)
            sys.stdout.flush()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            result = _child(path, name, cases, env or {}, memory_mb)
            os.write(write, json.dumps(result).encode())
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    chunks, deadline = [], start + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([read], [], [], left)
        if not ready:
            break
        data = os.read(read, 1 << 16)
        if not data:
            break
        chunks.append(data)
    os.close(read)
    timed_out = time.monotonic() >= deadline and not chunks
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:  # the group too: a mutant's own children (Triton's compiler) must not outlive it
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - start
    if timed_out:
        return {"verdict": "wrong", "case": "any", "detail": f"no answer within {timeout_s:.0f} s (hangs)",
                "seconds": seconds}
    try:
        result = json.loads(b"".join(chunks))
    except ValueError:
        result = {"verdict": "wrong", "case": "any",
                  "detail": f"the oracle's child died (wait status {status}): a crash or out of memory"}
    result["seconds"] = seconds
    return result
