# expected: passed
# A fresh learner's correct answer, written from the stub alone (not the reference): see
# the notes in its own comments for how it differs.
"""p14 - my take: no padded copy at all. Loop over the kernel taps in row-major order; for each
tap gather the input under every window at once (index arithmetic + masks for the padding)."""
import math

import torch


def _pair(v):
    if isinstance(v, (tuple, list)):
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _out_len(size, k, s, p, d, ceil_mode):
    span = size + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        n = -(-span // s) + 1
        if (n - 1) * s >= size + p:      # last window would start in the right padding
            n -= 1
    else:
        n = span // s + 1
    if n < 1:
        raise ValueError("pooling output would be empty")
    return n


def _geometry(x, kernel_size, stride, padding, dilation, ceil_mode):
    kh, kw = _pair(kernel_size)
    sh, sw = _pair(stride) if stride is not None and stride != [] else (kh, kw)
    ph, pw = _pair(padding)
    dh, dw = _pair(dilation)
    H, W = x.shape[-2:]
    Ho = _out_len(H, kh, sh, ph, dh, ceil_mode)
    Wo = _out_len(W, kw, sw, pw, dw, ceil_mode)
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (H, W), (Ho, Wo)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (H, W), (Ho, Wo) = _geometry(
        x, kernel_size, stride, padding, dilation, ceil_mode)
    lead = x.shape[:-2]
    flat = x.reshape(-1, H * W)
    dev = x.device
    rows0 = torch.arange(Ho, device=dev) * sh - ph
    cols0 = torch.arange(Wo, device=dev) * sw - pw
    best = torch.empty((flat.shape[0], Ho, Wo), dtype=x.dtype, device=dev)
    best_idx = torch.full((flat.shape[0], Ho, Wo), -1, dtype=torch.int64, device=dev)
    seen = torch.zeros((1, Ho, Wo), dtype=torch.bool, device=dev)
    for u in range(kh):
        r = rows0 + u * dh
        rin = (r >= 0) & (r < H)
        for v in range(kw):
            c = cols0 + v * dw
            cin = (c >= 0) & (c < W)
            valid = (rin[:, None] & cin[None, :])[None]          # 1, Ho, Wo
            if not bool(valid.any()):
                continue
            idx = (r.clamp(0, H - 1)[:, None] * W + c.clamp(0, W - 1)[None, :])  # Ho, Wo
            val = flat[:, idx.reshape(-1)].reshape(-1, Ho, Wo)
            take = valid & (~seen | (val > best) | torch.isnan(val))
            best = torch.where(take, val, best)
            best_idx = torch.where(take, idx[None].expand_as(best_idx), best_idx)
            seen = seen | valid
    out = best.reshape(*lead, Ho, Wo)
    if return_indices:
        return out, best_idx.reshape(*lead, Ho, Wo)
    return out


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    (kh, kw), (sh, sw), (ph, pw), _, (H, W), (Ho, Wo) = _geometry(
        x, kernel_size, stride, padding, 1, ceil_mode)
    lead = x.shape[:-2]
    flat = x.reshape(-1, H * W)
    dev = x.device
    rows0 = torch.arange(Ho, device=dev) * sh - ph
    cols0 = torch.arange(Wo, device=dev) * sw - pw
    total = torch.zeros((flat.shape[0], Ho, Wo), dtype=x.dtype, device=dev)
    for u in range(kh):
        r = rows0 + u
        rin = (r >= 0) & (r < H)
        for v in range(kw):
            c = cols0 + v
            cin = (c >= 0) & (c < W)
            valid = rin[:, None] & cin[None, :]
            idx = r.clamp(0, H - 1)[:, None] * W + c.clamp(0, W - 1)[None, :]
            val = flat[:, idx.reshape(-1)].reshape(-1, Ho, Wo)
            total = total + torch.where(valid[None], val, torch.zeros((), dtype=x.dtype, device=dev))
    if count_include_pad:
        lo_r, hi_r = -ph, H + ph
        lo_c, hi_c = -pw, W + pw
    else:
        lo_r, hi_r, lo_c, hi_c = 0, H, 0, W
    nr = ((rows0 + kh).clamp(max=hi_r) - rows0.clamp(min=lo_r)).clamp(min=0)
    nc = ((cols0 + kw).clamp(max=hi_c) - cols0.clamp(min=lo_c)).clamp(min=0)
    count = (nr[:, None] * nc[None, :]).to(x.dtype)
    return (total / count).reshape(*lead, Ho, Wo)


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0):
    _, idx = max_pool2d(x, kernel_size, stride, padding, return_indices=True)
    H, W = x.shape[-2:]
    lead = x.shape[:-2]
    gx = torch.zeros((idx.reshape(-1, idx.shape[-2] * idx.shape[-1]).shape[0], H * W),
                     dtype=x.dtype, device=x.device)
    gx.scatter_add_(1, idx.reshape(gx.shape[0], -1), grad_out.to(x.dtype).reshape(gx.shape[0], -1))
    return gx.reshape(*lead, H, W)
