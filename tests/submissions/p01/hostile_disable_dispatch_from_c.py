# expected: failed
# failing: cross_correlate2d; conv2d stride and padding; dilation and groups
# message: aten::conv2d
# Ban bypass (issue 13, route 4): the dispatch mode is switched off with
# torch._C._DisableTorchDispatch (entered by a `with` statement, which makes no call the profile
# hook sees), and F.conv2d is called from C through map(), so no Python call event names it.
# The refusal is swallowed by an exception handler (zeros come back instead), so it is the
# worker's record of the refused kernel, not the exception, that names the op.
import torch
import torch.nn.functional as F


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    try:
        with torch._C._DisableTorchDispatch():
            return list(map(F.conv2d, [x], [weight], [bias], [stride], [padding], [dilation], [groups]))[0]
    except RuntimeError:
        return torch.zeros(1)


def cross_correlate2d(image, kernel):
    return conv2d(image[None, None], kernel[None, None])[0, 0]


def convolve2d(image, kernel):
    return conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]
