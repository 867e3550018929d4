# expected: failed
# failing: worked example; cross_correlate2d; conv2d stride and padding; dilation and groups
# message: aten::slow_conv_dilated2d
# Ban bypass at import: a raw _thread thread tries the leaf kernel (redispatched to the CPU key)
# while the module is imported, swallows the refusal, and the module falls back to a stub. The
# refusal is recorded during the import and counts against every call.
import _thread

import torch
from torch._C import DispatchKey, DispatchKeySet

_done = _thread.allocate_lock()
_done.acquire()
_box = []


def _probe():
    try:
        x, w = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3)
        _box.append(torch.ops.aten.slow_conv_dilated2d.default.redispatch(
            DispatchKeySet(DispatchKey.CPU), x, w, [3, 3], None, [1, 1], [0, 0], [1, 1]))
    except RuntimeError:
        _box.append(None)
    finally:
        _done.release()


_thread.start_new_thread(_probe, ())
_done.acquire()


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    raise RuntimeError("no kernel available")


def cross_correlate2d(image, kernel):
    return conv2d(image[None, None], kernel[None, None])[0, 0]


def convolve2d(image, kernel):
    return conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]
