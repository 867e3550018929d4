# expected: failed
# failing: conv2d 'valid' and 'same' padding
# message: dilation (3, 1)
# Resolving 'same' pairs the row kernel size with the column dilation (issue 10:
# conv2d(x(1,1,2,1), w(2,1,2,2), padding='same', dilation=(2,1)) must give shape (1,2,2,1)).
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def cross_correlate2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    kh, kw = kernel.shape
    out = image.new_zeros(image.shape[0] - kh + 1, image.shape[1] - kw + 1)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    return out


def convolve2d(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    # The only difference from cross-correlation: the kernel is turned by 180 degrees.
    return cross_correlate2d(image, kernel.flip(0, 1))


def _resolve_padding(padding, kernel_hw, dilation):
    """Per-side padding (top, bottom, left, right) for an int, a pair, 'valid' or 'same'."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        sides = []
        for k, d in zip(kernel_hw, dilation[::-1]):  # wrong: swapped
            total = d * (k - 1)
            sides += [total // 2, total - total // 2]  # odd total: the extra pixel goes after
        return tuple(sides)
    ph, pw = _pair(padding)
    return (ph, ph, pw, pw)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    c_out, c_per_group, kh, kw = weight.shape
    top, bottom, left, right = _resolve_padding(padding, (kh, kw), (dh, dw))
    # F.pad is a plain copy into a larger zero tensor, not a convolution kernel.
    x = F.pad(x, (left, right, top, bottom))
    n, _, h, w = x.shape
    h_out = (h - dh * (kh - 1) - 1) // sh + 1
    w_out = (w - dw * (kw - 1) - 1) // sw + 1
    out = x.new_zeros(n, c_out, h_out, w_out)
    out_per_group = c_out // groups
    for o in range(c_out):
        first = (o // out_per_group) * c_per_group  # this output channel's slice of input channels
        channels = x[:, first:first + c_per_group]
        for i in range(h_out):
            for j in range(w_out):
                window = channels[:, :, i * sh: i * sh + dh * (kh - 1) + 1: dh,
                                  j * sw: j * sw + dw * (kw - 1) + 1: dw]
                out[:, o, i, j] = (window * weight[o]).sum(dim=(1, 2, 3))
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out
