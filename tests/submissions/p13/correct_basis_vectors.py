# expected: passed
# A correct p13 that differs from the reference: column k of M is the conv of the k-th one-hot
# input. All C*H*W one-hot images go through a p01-style loop conv as one batch, and the outputs,
# flattened, are the columns.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _loop_conv(x, weight, stride, padding):
    (sh, sw), (ph, pw) = stride, padding
    x = F.pad(x, (pw, pw, ph, ph))  # a copy into a larger zero tensor, not a conv kernel
    n, _, h, w = x.shape
    o, c, kh, kw = weight.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = x.new_zeros(n, o, ho, wo)
    for i in range(ho):
        for j in range(wo):
            window = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = torch.einsum("nckl,ockl->no", window, weight)
    return out


def conv_matrix(weight, input_shape, stride=1, padding=0):
    c, h, w = (int(s) for s in input_shape)
    basis = torch.eye(c * h * w, dtype=weight.dtype).reshape(c * h * w, c, h, w)
    columns = _loop_conv(basis, weight, _pair(stride), _pair(padding))  # (CHW, O, Ho, Wo)
    return columns.reshape(c * h * w, -1).T.contiguous()
