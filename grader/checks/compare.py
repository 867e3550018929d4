"""Compare a learner's tensor with a float64 reference, in the parent, and say where it differs.

Two tolerances must both hold: an elementwise one (|got - ref| <= atol + rtol*|ref|, with atol
scaled by the reference's magnitude) and a relative-L2 one over the whole tensor, so that neither
a few wild values nor a small uniform error slips through. One table, by dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from grader.checks.verdict import Fail
from grader.context import expect_tensor


@dataclass(frozen=True)
class Tolerance:
    rtol: float  # elementwise, relative to |ref|
    atol: float  # elementwise, relative to max|ref| (so it scales with the data)
    l2: float  # ||got - ref|| / ||ref||


TOLERANCES = {
    torch.float64: Tolerance(rtol=1e-7, atol=1e-9, l2=1e-9),
    torch.float32: Tolerance(rtol=1e-4, atol=1e-5, l2=1e-5),
    torch.float16: Tolerance(rtol=1e-2, atol=2e-3, l2=2e-3),
    torch.bfloat16: Tolerance(rtol=3e-2, atol=1e-2, l2=1e-2),
}


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


def _distinct(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` printed with 6 significant digits, or in full when those look the same."""
    short = (f"{a:.6g}", f"{b:.6g}")
    return short if short[0] != short[1] else (repr(a), repr(b))


def compare(got, expected: torch.Tensor, *, dtype: torch.dtype, what: str, case: str = "",
            shape_hint: str = "", tolerance: Tolerance | None = None) -> None:
    """Check a learner's tensor against the reference; return None when it is close enough.

    ``got``: what the learner returned (anything; it must be a ``torch.Tensor``). ``expected``:
    the reference, float64 for floating results (or an exact integer/bool tensor, compared
    element by element), of the shape ``got`` must have, any rank. ``dtype``: the dtype the
    result must keep (usually the input's). ``what`` names the call ("conv2d()"), ``case`` the
    case and its seed, ``shape_hint`` the output-size formula shown when shapes differ.
    ``tolerance``: ``Tolerance(atol, rtol, l2)``, default ``TOLERANCES[dtype]``; an element is bad
    when ``|got - expected| > atol * max(max|expected|, 1) + rtol * |expected|`` (unitless, in
    the result's own units), and the whole result when its relative L2 error exceeds ``l2``.

    Order of checks: type, shape, dtype, non-finite positions, then values. Raises
    ``grader.checks.verdict.Fail`` whose message names the first of these that differs (for
    values: the largest error, its index, got and expected).
    """
    prefix = f"{case}: " if case else ""
    got = expect_tensor(got, what)
    if tuple(got.shape) != tuple(expected.shape):
        hint = f" ({shape_hint})" if shape_hint else ""
        raise Fail(f"{prefix}{what} returned shape {_fmt_shape(got.shape)}, "
                   f"expected {_fmt_shape(expected.shape)}{hint}")
    if got.dtype != dtype:
        raise Fail(f"{prefix}{what} returned dtype {got.dtype}, expected {dtype} (keep the input's dtype)")
    if not expected.dtype.is_floating_point:
        if not torch.equal(got, expected.to(got.dtype)):
            bad = (got != expected).nonzero()
            idx = tuple(int(i) for i in bad[0]) if len(bad) else ()
            raise Fail(f"{prefix}{what} differs in {len(bad)} of {got.numel()} elements; first at "
                       f"{list(idx)}: got {got[idx].item()}, expected {expected[idx].item()}")
        return
    tol = tolerance or TOLERANCES[dtype]
    ref = expected.to(torch.float64)
    val = got.to(torch.float64)
    ref_finite = torch.isfinite(ref)
    if not torch.equal(torch.isfinite(val), ref_finite):
        where = (torch.isfinite(val) != ref_finite).nonzero()[0].tolist()
        raise Fail(f"{prefix}{what} has a non-finite value at {where}: got {val[tuple(where)].item()}, "
                   f"expected {ref[tuple(where)].item()}")
    if ref.numel() == 0:
        return
    val = torch.where(ref_finite, val, 0.0)
    ref = torch.where(ref_finite, ref, 0.0)
    err = (val - ref).abs()
    scale = ref.abs().max().item()
    allowed = tol.atol * max(scale, 1.0) + tol.rtol * ref.abs()
    bad = err > allowed
    ref_norm = ref.norm().item()
    rel_l2 = (val - ref).norm().item() / max(ref_norm, 1e-30)
    if bad.any() or rel_l2 > tol.l2:
        flat = int(torch.argmax(err).item())
        index = list(torch.unravel_index(torch.tensor(flat), err.shape)) if err.dim() else []
        index = [int(i) for i in index]
        at = tuple(index)
        first = [list(map(int, i)) for i in bad.nonzero()[:5].tolist()]
        shown_got, shown_ref = _distinct(val[at].item(), ref[at].item())
        raise Fail(
            f"{prefix}{what} is wrong: max abs error {err.max().item():.3g} at {index} "
            f"(got {shown_got}, expected {shown_ref}); relative L2 error "
            f"{rel_l2:.3g} (allowed {tol.l2:g}); {int(bad.sum())} of {err.numel()} elements outside "
            f"tolerance" + (f", first at {first}" if first else ""))


def shown_difference(got: torch.Tensor, expected: torch.Tensor, decimals: int = 4) -> list[str]:
    """Lines that say how ``got`` differs from ``expected`` when the two are printed side by side
    rounded to ``decimals``: a dtype or shape difference, and, when the printed values look the
    same (e.g. -0.0 against 0.0 after rounding, or an error below the rounding), the largest
    difference at full precision. Empty when the printed values already show the difference, or
    when there is none."""
    lines = []
    if got.dtype != expected.dtype:
        lines.append(f"dtype: got {str(got.dtype).replace('torch.', '')}, expected "
                     f"{str(expected.dtype).replace('torch.', '')}")
    if tuple(got.shape) != tuple(expected.shape):
        lines.append(f"shape: got {_fmt_shape(got.shape)}, expected {_fmt_shape(expected.shape)}")
        return lines
    if got.numel() == 0:
        return lines
    a, b = got.to(torch.float64), expected.to(torch.float64)
    rounded_same = torch.equal(a.round(decimals=decimals).nan_to_num() + 0.0, b.round(decimals=decimals).nan_to_num() + 0.0)
    if rounded_same:
        err = (a - b).abs().nan_to_num(nan=float("inf"))
        if err.max().item() > 0:
            flat = int(torch.argmax(err).item())
            at = [int(i) for i in torch.unravel_index(torch.tensor(flat), err.shape)] if err.dim() else []
            lines.append(f"the values look equal rounded to {decimals} decimals; the largest difference is "
                         f"{err.max().item():.3g} at {at} (got {a[tuple(at)].item()!r}, expected "
                         f"{b[tuple(at)].item()!r})")
    return lines
