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

Model answer
------------
Write a convolution as a matrix: flatten the input to a vector x, and conv2d is y = C x, where
each row of C holds the kernel weights at the positions one output pixel reads. A transposed
convolution is y' = C^T x': the same sparse pattern used the other way round, so each *input*
pixel is spread back over the output pixels it would have fed - a scatter instead of a gather.
That is exactly what autograd does for the input gradient of conv2d, which is why the same
routine serves both purposes, and why it has the same weight layout as the conv it transposes
(C_in of the transposed conv = C_out of the forward one). It is not a deconvolution: C^T is not
C^-1, it only restores the shape, not the values. Its hyper-parameters describe the forward conv
it undoes: stride s means input pixels land s apart (equivalently, insert s-1 zeros between them
and run an ordinary conv with the flipped kernel and padding d*(k-1)-p), padding p crops p pixels
from each side, and because a strided conv maps several input sizes to the same output size,
output_padding picks which of them to produce. When s does not divide the kernel size the stamps
overlap unevenly, which is the source of checkerboard artefacts in decoders and GANs; resizing
then convolving avoids it.
"""

import torch


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def conv_transpose2d(x: torch.Tensor, weight: torch.Tensor, bias=None, stride=1, padding=0,
                     output_padding=0, groups=1, dilation=1) -> torch.Tensor:
    (sh, sw), (ph, pw) = _pair(stride), _pair(padding)
    (oph, opw), (dh, dw) = _pair(output_padding), _pair(dilation)
    n, c_in, h, w = x.shape
    _, out_per_group, kh, kw = weight.shape
    in_per_group = c_in // groups
    # The full output before cropping: the last stamp ends at (H-1)*s + d*(k-1); output_padding
    # adds rows/columns at the far end.
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (w - 1) * sw + dw * (kw - 1) + 1 + opw
    full = x.new_zeros(n, out_per_group * groups, full_h, full_w)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    for g in range(groups):
        xs = x[:, g * in_per_group:(g + 1) * in_per_group]  # (N, C_in/g, H, W)
        ws = weight[g * in_per_group:(g + 1) * in_per_group]  # (C_in/g, C_out/g, kH, kW)
        outs = slice(g * out_per_group, (g + 1) * out_per_group)
        for i in range(h):
            for j in range(w):
                # Scatter: input pixel (i, j) of every channel stamps its weighted kernel at (i*s, j*s).
                stamp = torch.einsum("nc,cokl->nokl", xs[:, :, i, j], ws)
                full[:, outs, i * sh:i * sh + span_h:dh, j * sw:j * sw + span_w:dw] += stamp
    out = full[:, :, ph:full_h - ph, pw:full_w - pw]  # padding crops from each side
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.contiguous()
