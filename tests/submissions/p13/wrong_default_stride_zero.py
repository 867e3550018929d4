# expected: failed
# failing: worked example
# A wrong default: stride=0 (every call that passes stride is right; issue 10).
import torch


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv_matrix(weight: torch.Tensor, input_shape, stride=0, padding=0):
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    o_ch, c_ch, kh, kw = weight.shape
    c, h, w = (int(s) for s in input_shape)
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (w + 2 * pw - kw) // sw + 1
    m = weight.new_zeros(o_ch * ho * wo, c * h * w)
    rows = m.view(o_ch, ho, wo, c, h, w)  # the same storage, indexed by (out[o,i,j], x[c,y,x])
    for i in range(ho):
        for j in range(wo):
            for u in range(kh):
                y = i * sh - ph + u
                if not 0 <= y < h:
                    continue  # this tap reads padding: a zero, so no column
                for v in range(kw):
                    x = j * sw - pw + v
                    if 0 <= x < w:
                        # Every output channel o and input channel c at once: weight[o, c, u, v].
                        rows[:, i, j, :, y, x] = weight[:, :, u, v]
    return m
