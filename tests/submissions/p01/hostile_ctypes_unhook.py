# expected: failed
# failing: worked example; cross_correlate2d; conv2d stride and padding
# Removes the profile hook through ctypes (no Python-visible call), hides the dispatch mode,
# calls the forbidden kernel, then puts both back so that nothing looks changed afterwards.
# The interpreter's audit hook (sys.addaudithook, which cannot be removed) still sees it.
import ctypes
import sys

import torch
import torch.nn.functional as F

_set_profile = ctypes.pythonapi.PyEval_SetProfile
_set_profile.argtypes = [ctypes.c_void_p, ctypes.c_void_p]


def _sneaky(fn):
    hook = sys.getprofile()
    _set_profile(None, None)
    try:
        with torch._C._DisableTorchDispatch():
            return fn()
    finally:
        sys.setprofile(hook)


def cross_correlate2d(image, kernel):
    return _sneaky(lambda: F.conv2d(image[None, None], kernel[None, None])[0, 0])


def convolve2d(image, kernel):
    return cross_correlate2d(image, kernel.flip(0, 1))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _sneaky(lambda: F.conv2d(x, weight, bias, stride, padding, dilation, groups))
