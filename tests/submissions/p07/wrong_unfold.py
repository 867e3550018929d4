# expected: failed
# failing: stride and padding
# message: forbidden op
# Uses F.unfold for im2col, which this problem asks you to write yourself.
import torch.nn.functional as F


def conv2d_fast(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    n, _, h, w = x.shape
    o, _, kh, kw = weight.shape
    cols = F.unfold(x, (kh, kw), dilation=dilation, padding=padding, stride=stride)
    out = weight.reshape(o, -1) @ cols
    ho = int(cols.shape[-1] ** 0.5)
    out = out.reshape(n, o, -1, cols.shape[-1] // max(ho, 1))
    return out if bias is None else out + bias.view(1, -1, 1, 1)
