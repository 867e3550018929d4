# expected: failed
# failing: cross_correlate2d; conv2d stride and padding; dilation and groups
# message: aten::conv2d
# Ban bypass (issue 13, route 2): F.conv2d in a raw _thread thread, started and joined inside
# the call. The dispatch mode is per thread, and threading.setprofile does not reach threads that
# _thread starts, so neither signal of the calling thread sees the convolution.
import _thread

import torch.nn.functional as F


def _in_raw_thread(fn, *args):
    done, box = _thread.allocate_lock(), []
    done.acquire()

    def run():
        try:
            box.append(("ok", fn(*args)))
        except BaseException as exc:
            box.append(("err", exc))
        finally:
            done.release()
    _thread.start_new_thread(run, ())
    done.acquire()  # joined: no thread of ours is left when the call returns
    status, value = box[0]
    if status == "err":
        raise value
    return value


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _in_raw_thread(F.conv2d, x, weight, bias, stride, padding, dilation, groups)


def cross_correlate2d(image, kernel):
    return conv2d(image[None, None], kernel[None, None])[0, 0]


def convolve2d(image, kernel):
    return conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]
