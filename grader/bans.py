"""Forbidden calls, each with a one-line reason the learner sees, and ``forbid``: the one way a
problem declares its bans.

A family (convolution, unfold, pooling, autograd) is its list of usual names plus a pattern for
the rest of it, whatever the namespace, plus other libraries' routines that do the same job.
``forbid`` always takes a family whole, so no problem can ban ``aten::unfold`` and forget
``aten::unfold_copy``. The worker refuses every op the lists and patterns match, process-wide
(``grader.runner.intercept``); the guard's dispatch mode and profile hook name them in messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.runner.guard import BannedOps

_CONV = "the point of this problem is to compute the convolution yourself"
_IM2COL = "unfold/im2col does the patch extraction this problem asks you to write"
_POOL = "the point of this problem is to compute the pooling yourself"


@dataclass(frozen=True)
class Family:
    """One kind of forbidden work: exact aten and Python names, regex patterns over op names (all
    namespaces), ops through which no autograd graph may be built, other libraries' routines
    (``"module:attribute"``). Each maps to the reason shown."""

    aten: dict = field(default_factory=dict)
    python: dict = field(default_factory=dict)
    patterns: dict = field(default_factory=dict)
    autograd: dict = field(default_factory=dict)
    foreign: dict = field(default_factory=dict)


CONV_ATEN = {name: _CONV for name in (
    "aten::convolution", "aten::_convolution", "aten::conv2d", "aten::conv1d", "aten::conv3d",
    "aten::conv_transpose1d", "aten::conv_transpose2d", "aten::conv_transpose3d",
    "aten::convolution_overrideable", "aten::mkldnn_convolution", "aten::_slow_conv2d_forward",
    "aten::thnn_conv2d", "aten::slow_conv_transpose2d", "aten::slow_conv_dilated2d",
    "aten::_nnpack_spatial_convolution", "aten::cudnn_convolution", "aten::_conv_depthwise2d",
    "aten::slow_conv3d", "aten::conv_depthwise3d", "aten::_convolution_mode",
    "aten::cudnn_convolution_transpose", "aten::mkldnn_convolution_transpose",
    "aten::convolution_backward", "aten::_slow_conv2d_backward",
)}
CONV_PY = {name: _CONV for name in (
    "conv1d", "conv2d", "conv3d", "convolution", "_convolution", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d", "_conv_depthwise2d", "mkldnn_convolution",
    "thnn_conv2d", "slow_conv_transpose2d", "slow_conv_dilated2d", "_convolution_mode",
    "convolution_backward",
)}
UNFOLD_ATEN = {"aten::im2col": _IM2COL, "aten::col2im": _IM2COL, "aten::unfold": _IM2COL}
UNFOLD_PY = {"im2col": _IM2COL, "col2im": _IM2COL, "unfold": _IM2COL}
POOL_ATEN = {name: _POOL for name in (
    "aten::max_pool2d", "aten::max_pool2d_with_indices", "aten::avg_pool2d",
    "aten::adaptive_avg_pool2d", "aten::adaptive_max_pool2d", "aten::_adaptive_avg_pool2d",
    "aten::max_pool1d", "aten::avg_pool1d", "aten::max_pool2d_with_indices_backward",
    "aten::avg_pool2d_backward", "aten::mkldnn_max_pool2d", "aten::quantized_max_pool2d",
    "aten::fractional_max_pool2d", "aten::lp_pool2d", "aten::max_unpool2d",
)}
POOL_PY = {name: _POOL for name in (
    "max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "max_pool1d", "avg_pool1d", "max_unpool2d", "lp_pool2d",
    "fractional_max_pool2d",
)}

# The lists name the usual routes; the patterns catch the rest of each family, whatever the
# namespace (aten::conv_tbc, aten::slow_conv3d_forward, mkldnn::_convolution_pointwise,
# quantized::conv2d, aten::max_pool3d_with_indices, aten::unfold_copy, aten::unfold_backward...).
# Matched against the full op name and the bare Python name. "conv" alone would also match
# aten::convert_*.
# "q?" and the _pointwise/_prepack/_unpack forms: oneDNN's and quantized's int8 convolutions
# (onednn::qconv2d_pointwise computes an exact integer convolution a learner can rebuild float64
# from; found by the red-team pass). Checked against every registered op name: nothing else new.
CONV_PATTERN = {r"(?:^|::|_)q?(?:conv(?:olution|_tbc|_transpose\dd|_depthwise\dd|\dd|_pointwise|_prepack|_unpack)"
                r"|slow_conv|thnn_conv)": _CONV}
UNFOLD_PATTERN = {r"(?:^|::)(?:im2col|col2im|unfold)": _IM2COL}
POOL_PATTERN = {r"pool": _POOL}

# Other libraries' convolution routines, at the C function each public one ends in (numpy's
# np.convolve/np.correlate; scipy.signal's convolve/correlate/convolve2d/correlate2d/lfilter;
# scipy.ndimage's convolve/correlate and their 1-d forms) and scipy.signal's FFT convolutions
# (pure Python over scipy.fft). FFT itself (np.fft, torch.fft, scipy.fft) stays allowed: with it
# the learner still writes the convolution (padding, the pointwise product, cropping, the
# flip), which is what p07's contract names as a fast method.
_LIBRARY_CONV = "another library's convolution routine does the work this problem asks you to write"
CONV_FOREIGN = {name: _LIBRARY_CONV for name in (
    "numpy._core.multiarray:correlate", "numpy._core.multiarray:correlate2",
    "numpy._core._multiarray_umath:correlate", "numpy._core._multiarray_umath:correlate2",
    "scipy.signal._sigtools:_convolve2d", "scipy.signal._sigtools:_correlateND",
    "scipy.signal._sigtools:_linear_filter",
    "scipy.signal._signaltools:fftconvolve", "scipy.signal._signaltools:oaconvolve",
    "scipy.ndimage._nd_image:correlate", "scipy.ndimage._nd_image:correlate1d",
)}
_LIBRARY_POOL = "another library's filter routine does the pooling this problem asks you to write"
POOL_FOREIGN = {name: _LIBRARY_POOL for name in (
    "scipy.ndimage._nd_image:min_or_max_filter", "scipy.ndimage._nd_image:min_or_max_filter1d",
    "scipy.ndimage._nd_image:uniform_filter1d", "scipy.ndimage._nd_image:rank_filter",
    "scipy.ndimage._nd_image:generic_filter", "scipy.ndimage._nd_image:generic_filter1d",
)}

CONV = Family(aten=CONV_ATEN, python=CONV_PY, patterns=CONV_PATTERN, foreign=CONV_FOREIGN)
UNFOLD = Family(aten=UNFOLD_ATEN, python=UNFOLD_PY, patterns=UNFOLD_PATTERN)
POOL = Family(aten=POOL_ATEN, python=POOL_PY, patterns=POOL_PATTERN, foreign=POOL_FOREIGN)

# The C functions every autograd route through the engine ends in, as the guard's profile hook
# sees them: torch.autograd.grad, Tensor.backward, torch.autograd.functional.* and
# torch.func.vjp/grad/jacrev all reach Engine.run_backward; forward-mode AD (forward_ad,
# torch.func.jvp/jacfwd) needs _enter_dual_level and _make_dual. Measured with sys.setprofile on
# torch 2.13.
AUTOGRAD_ENTRY_POINTS = ("run_backward", "_make_dual", "_enter_dual_level",
                         "_grad_increment_nesting", "_jvp_increment_nesting")
# Autograd's derivative formulas end in kernels named *_backward (threshold_backward for ReLU,
# slice_backward, select_backward, unfold_backward, convolution_backward...): nothing but a
# backward node calls them, so they are refused outright, which stops calling grad_fn nodes by
# hand as well as the engine.
BACKWARD_PATTERN = r"_backward"
# Without the conv backward kernels, for problems that allow torch.nn.grad (p10).
BACKWARD_BUT_CONV_PATTERN = r"^(?!.*conv.*_backward).*_backward"
# Ops whose backward formula is generic (as_strided's is index_add_, a product's is a product):
# a graph through them is refused instead, whenever grad mode is on and an input requires grad.
# With them an autograd graph of a hand-written forward, walked by calling the grad_fn nodes by
# hand, cannot be built from windows (as_strided, indexing, gather) or products.
GRAPH_OPS = ("aten::as_strided", "aten::index", "aten::gather", "aten::index_select", "aten::take",
             "aten::mul", "aten::div", "aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm",
             "aten::addbmm", "aten::dot", "aten::mv", "aten::addmv", "aten::addcmul")


# The ReLU's forms, for p10: autograd's mask through them is the rest of the backward p10 asks
# for (F.relu, clamp_min(0), clamp(min=0), threshold, maximum with zeros, where).
RELU_GRAPH_OPS = ("aten::relu", "aten::clamp_min", "aten::clamp", "aten::threshold", "aten::maximum",
                  "aten::where", "aten::hardtanh")


def autograd_family(reason: str, *, allow_conv_backward: bool = False, graph_ops=GRAPH_OPS) -> Family:
    """The autograd family for a problem whose contract asks for a hand-written backward:
    the engine's entry points (by name), every ``*_backward`` kernel (refused; except conv's when
    ``allow_conv_backward``: torch.nn.grad), and no autograd graph through ``graph_ops``."""
    pattern = BACKWARD_BUT_CONV_PATTERN if allow_conv_backward else BACKWARD_PATTERN
    return Family(python={name: reason for name in AUTOGRAD_ENTRY_POINTS}, patterns={pattern: reason},
                  autograd={name: reason for name in graph_ops})


def forbid(*families: Family) -> BannedOps:
    """A problem's bans: the union of ``families``, always with each family's patterns (so a
    new member of a family is refused without being named), never a list built by hand.
    Returns a ``BannedOps``; with no family, the empty one."""
    merged = {key: {} for key in ("aten", "python", "patterns", "autograd", "foreign")}
    for family in families:
        if not isinstance(family, Family):
            raise TypeError(f"forbid() takes families (bans.CONV, bans.POOL...), got {family!r}")
        for key, items in merged.items():
            for name, reason in getattr(family, key).items():
                items.setdefault(name, reason)
    return BannedOps(**merged)


# Every pattern a problem can ban: the fork server looks their ops up once (intercept.preload).
FAMILY_PATTERNS = tuple({**CONV_PATTERN, **UNFOLD_PATTERN, **POOL_PATTERN, BACKWARD_PATTERN: "",
                         BACKWARD_BUT_CONV_PATTERN: ""})

# p01, p11, p12, p13, p14: no convolution, no unfold/im2col, no pooling kernels.
NAIVE = forbid(CONV, UNFOLD, POOL)
# p07: no convolution kernels, no unfold (an as_strided im2col is the intended route).
FAST = forbid(CONV, UNFOLD)
