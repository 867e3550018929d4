"""Forbidden PyTorch calls, each with a one-line reason the learner sees."""

from grader.runner.guard import BannedOps

_CONV = "the point of this problem is to compute the convolution yourself"
_IM2COL = "unfold/im2col does the patch extraction this problem asks you to write"
_POOL = "the point of this problem is to compute the pooling yourself"

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
# quantized::conv2d, aten::max_pool3d_with_indices, aten::unfold_copy...). Matched against the
# full op name and the bare Python name. "conv" alone would also match aten::convert_*.
CONV_PATTERN = {r"(?:^|::|_)(?:conv(?:olution|_tbc|_transpose\dd|_depthwise\dd|\dd)|slow_conv|thnn_conv)": _CONV}
UNFOLD_PATTERN = {r"(?:^|::)(?:im2col|col2im|unfold)": _IM2COL}
POOL_PATTERN = {r"pool": _POOL}

# p01, p11, p12, p13, p14: no convolution, no unfold/im2col, no pooling kernels.
NAIVE = BannedOps(aten={**CONV_ATEN, **UNFOLD_ATEN, **POOL_ATEN}, python={**CONV_PY, **UNFOLD_PY, **POOL_PY},
                  patterns={**CONV_PATTERN, **UNFOLD_PATTERN, **POOL_PATTERN})
# p07: no convolution kernels, no unfold (an as_strided im2col is the intended route).
FAST = BannedOps(aten={**CONV_ATEN, **UNFOLD_ATEN}, python={**CONV_PY, **UNFOLD_PY},
                 patterns={**CONV_PATTERN, **UNFOLD_PATTERN})
