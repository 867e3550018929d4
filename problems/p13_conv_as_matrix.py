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
"""

import torch


def conv_matrix(weight: torch.Tensor, input_shape, stride=1, padding=0):
    # TODO: start from zeros (O*Ho*Wo, C*H*W) and, for every output position and kernel tap that
    # lands inside the input, write the weight into M[row, column].
    raise NotImplementedError("p13: conv_matrix is not implemented yet")
