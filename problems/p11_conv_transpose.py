"""p11 - Transposed convolution by scattering.

Interview question: "What is a transposed convolution, and how does it relate to an ordinary
convolution? Why is it not a deconvolution?"

conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1)
    Exactly torch.nn.functional.conv_transpose2d, written with loops that *scatter*: every input
    pixel adds x[n, c, i, j] * weight[c] into the output, the kernel's top-left at
    (i*stride - padding, j*stride - padding), taps `dilation` apart (the kernel is not flipped).
        x (N, C_in, H, W), weight (C_in, C_out / groups, kH, kW), bias (C_out,) or None
        out (N, C_out, H_out, W_out)
        H_out = (H - 1)*stride - 2*padding + dilation*(kH - 1) + output_padding + 1
    stride, padding, output_padding and dilation are an int or a pair (rows, columns);
    output_padding < max(stride, dilation) only adds rows/columns at the bottom/right.
    Groups: input channels [g*C_in/groups, ...) write output channels [g*C_out/groups, ...).
    Keep x's dtype.

Constraints: no F.conv2d / F.conv_transpose2d or any convolution op, no unfold/fold/im2col.

Example (work it by hand):
    x = [[1, 2], [3, 4]], weight = [[1, 2], [3, 4]] (as 1x1x2x2), stride 2:
        [[1, 2, 2, 4], [3, 4, 6, 8], [3, 6, 4, 8], [9, 12, 12, 16]]   (x[i,j] * weight at (2i, 2j))
    same x, weight of ones, stride 1: [[1, 3, 2], [4, 10, 6], [3, 7, 4]]   (stamps overlap and add)

Follow-ups: why is it the gradient of conv2d with respect to its input? Why do strided transposed
convs make checkerboard artefacts, and what do resize-then-conv decoders do instead? Why does
output_padding exist at all?
"""

import torch


def conv_transpose2d(x: torch.Tensor, weight: torch.Tensor, bias=None, stride=1, padding=0,
                     output_padding=0, groups=1, dilation=1) -> torch.Tensor:
    # TODO: build the full (uncropped) output, scatter each input pixel's weighted kernel into it,
    # then crop `padding` from each side and add the bias.
    raise NotImplementedError("p11: conv_transpose2d is not implemented yet")
