# expected: failed
# failing: stride 1, no padding; stride and padding; dilation
# message: unfold
# Ban bypass (issue 13, route 6): im2col and col2im by members of the unfold family that no ban
# list names: torch.unfold_copy builds the windows, aten::unfold_backward scatters them back.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _windows(xp, kh, kw, sh, sw, dh, dw):
    # windows of the dilated kernel's extent, then keep every d-th tap
    t = torch.unfold_copy(xp, 2, dh * (kh - 1) + 1, sh)
    t = torch.unfold_copy(t, 3, dw * (kw - 1) + 1, sw)  # N, C, Ho, Wo, eh, ew
    return t[..., ::dh, ::dw]


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    kh, kw = weight.shape[2:]
    xp = F.pad(x, (pw, pw, ph, ph))
    ho, wo = grad_out.shape[2:]
    win = _windows(xp, kh, kw, sh, sw, dh, dw)[:, :, :ho, :wo]
    grad_weight = torch.einsum("nohw,nchwij->ocij", grad_out, win)
    cols = torch.einsum("nohw,ocij->nchwij", grad_out, weight)  # N, C, Ho, Wo, kh, kw
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    full = cols.new_zeros(*cols.shape[:4], eh, ew)
    full[..., ::dh, ::dw] = cols
    rows_used = (ho - 1) * sh + eh
    cols_used = (wo - 1) * sw + ew
    t = torch.ops.aten.unfold_backward(full, (*cols.shape[:3], cols_used, eh), 3, ew, sw)
    gxp = torch.ops.aten.unfold_backward(t, (*cols.shape[:2], rows_used, cols_used), 2, eh, sh)
    grad_xp = xp.new_zeros(xp.shape)
    grad_xp[:, :, :rows_used, :cols_used] = gxp
    grad_x = grad_xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
    return grad_x, grad_weight, grad_out.sum(dim=(0, 2, 3))
