# expected: passed
# A fresh learner's correct answer, written from the stub alone (not the reference): see
# the notes in its own comments for how it differs.
"""p13 - my take: fully vectorised. Broadcast indices over (o, i, j, c, u, v), keep the taps that
land inside the input, and write all of them into M with one advanced-indexing assignment."""
import torch


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def conv_matrix(weight, input_shape, stride=1, padding=0):
    sh, sw = _pair(stride)
    ph, pw = _pair(padding)
    C, H, W = (int(s) for s in input_shape)
    O, Cw, kh, kw = weight.shape
    assert Cw == C, "weight's in_channels must match input_shape[0]"
    Ho = (H + 2 * ph - kh) // sh + 1
    Wo = (W + 2 * pw - kw) // sw + 1
    dev = weight.device
    o = torch.arange(O, device=dev).view(O, 1, 1, 1, 1, 1)
    i = torch.arange(Ho, device=dev).view(1, Ho, 1, 1, 1, 1)
    j = torch.arange(Wo, device=dev).view(1, 1, Wo, 1, 1, 1)
    c = torch.arange(C, device=dev).view(1, 1, 1, C, 1, 1)
    u = torch.arange(kh, device=dev).view(1, 1, 1, 1, kh, 1)
    v = torch.arange(kw, device=dev).view(1, 1, 1, 1, 1, kw)
    y = i * sh - ph + u
    xx = j * sw - pw + v
    shape = (O, Ho, Wo, C, kh, kw)
    inside = ((y >= 0) & (y < H) & (xx >= 0) & (xx < W)).expand(shape)
    rows = ((o * Ho + i) * Wo + j).expand(shape)[inside]
    cols = ((c * H + y) * W + xx).expand(shape)[inside]
    vals = weight.view(O, 1, 1, C, kh, kw).expand(shape)[inside]
    M = torch.zeros((O * Ho * Wo, C * H * W), dtype=weight.dtype, device=dev)
    M[rows, cols] = vals
    return M
