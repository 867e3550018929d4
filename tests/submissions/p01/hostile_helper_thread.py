# expected: failed
# failing: conv2d stride and padding
# message: Python thread
# Ban bypass: a helper thread started at import (before any guard) runs F.conv2d on request.
# The dispatch mode is thread-local and the profile hook only follows threads started while a
# guard is active, so the helper's aten::convolution is never seen.
import queue, threading
import torch
import torch.nn.functional as F

_req, _rep = queue.Queue(), queue.Queue()

def _helper():
    while True:
        args, kwargs = _req.get()
        try:
            _rep.put(("ok", F.conv2d(*args, **kwargs)))
        except BaseException as e:
            _rep.put(("err", e))

threading.Thread(target=_helper, daemon=True).start()

def _conv(*args, **kwargs):
    _req.put((args, kwargs))
    st, v = _rep.get()
    if st == "err":
        raise v
    return v

def cross_correlate2d(image, kernel):
    return _conv(image[None, None], kernel[None, None])[0, 0]

def convolve2d(image, kernel):
    return _conv(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]

def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(x, weight, bias, stride, padding, dilation, groups)
