"""p13 - Convolution as a matrix.

Interview question: "How can a convolution be written as a single matrix multiplication, and
what does that view explain about transposed convolution and backpropagation?"

conv_matrix(weight, input_shape, stride=1, padding=0) -> Tensor
    The matrix M of conv2d(x, weight, stride=stride, padding=padding) for one image:
        weight (O, C, kH, kW), input_shape (C, H, W) (a tuple or x.shape[1:])
        M (O*Ho*Wo, C*H*W),  Ho = floor((H + 2*padding - kH) / stride) + 1  (Wo likewise)
    so that  M @ x.flatten() == F.conv2d(x[None], weight, None, stride, padding).flatten()
    for every x of shape (C, H, W). Rows and columns are in row-major (flatten) order:
        row (o*Ho + i)*Wo + j  <->  out[o, i, j],   column (c*H + y)*W + x  <->  x[c, y, x]
    stride and padding are an int or a pair (rows, columns). M is dense, in weight's dtype.

Constraints: no convolution op, no unfold/fold/im2col (build M with loops and indexing).

Example (work it by hand): 1 channel, 3x3 input, weight [[1, 2], [3, 4]], stride 1, padding 0:
    M = [[1, 2, 0, 3, 4, 0, 0, 0, 0],
         [0, 1, 2, 0, 3, 4, 0, 0, 0],
         [0, 0, 0, 1, 2, 0, 3, 4, 0],
         [0, 0, 0, 0, 1, 2, 0, 3, 4]]      (4 outputs x 9 inputs)

Follow-ups: what structure does M have, and why is it mostly zeros? What is M.T, and where does
it appear in a network? Why does nobody compute convolutions this way in practice, and what does
im2col do instead?

Model answer
------------
Convolution is linear in its input, so for a fixed weight and input size it *is* a matrix: one row
per output value, one column per input value, and the entry is the weight that multiplies that
input in that output (zero when the input is outside the kernel's window). For a single channel
and stride 1, each row is the previous one shifted by one column, and each block of Wo rows is the
previous block shifted by W columns: a Toeplitz matrix of Toeplitz blocks, "doubly block-Toeplitz"
(channels add a further block level, stride skips rows). It is extremely sparse, about kH*kW*C
non-zeros in a row of C*H*W, and weight sharing means the same few numbers repeat everywhere, which
is why nobody materialises it: im2col + GEMM reorganises the same product around the weight matrix
instead. The view explains a lot, though. The gradient of the loss with respect to the input is
M.T @ grad_out, so backprop through a conv multiplies by the transpose; and a "transposed
convolution" is exactly that product used as a layer, which is why it maps Ho x Wo back to H x W,
shares the conv's weight layout, and is not an inverse (M.T is not M^-1). The gradient with respect
to the weights is also a correlation, of the input with grad_out. And any property of a linear map
- its adjoint, its rank, its spectrum - can be read off this matrix.
"""

import torch


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv_matrix(weight: torch.Tensor, input_shape, stride=1, padding=0):
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
