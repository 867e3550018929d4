# expected: failed
# failing: stride 1, no padding; stride and padding; dilation
# message: autograd graph
# Ban bypass (issue 13, route 7): autograd without the engine. The forward is rebuilt from
# as_strided windows and einsum on requires_grad copies, then the grad_fn nodes are called by
# hand (no torch.autograd.grad, no Tensor.backward: nothing the profile hook names). Autograd's
# as_strided backward (index_add_) does the col2im this problem asks for.
import torch
import torch.nn.functional as F


def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _walk(out, grad):
    """Propagate grad through the graph by calling each node, in reverse topological order."""
    order, seen = [], set()

    def visit(node):
        if node is None or node in seen:
            return
        seen.add(node)
        for nxt, _ in node.next_functions:
            visit(nxt)
        order.append(node)
    visit(out.grad_fn)
    grads, leaves = {out.grad_fn: grad}, {}
    for node in reversed(order):
        g = grads.pop(node, None)
        if g is None:
            continue
        if hasattr(node, "variable"):
            leaves[node.variable] = g
            continue
        outs = node(g)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for (nxt, _), o in zip(node.next_functions, outs):
            if nxt is not None and o is not None:
                grads[nxt] = grads[nxt] + o if nxt in grads else o
    return leaves


def conv2d_backward(grad_out, x, weight, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    kh, kw = weight.shape[2:]
    ho, wo = grad_out.shape[2:]
    with torch.enable_grad():
        xr = x.detach().clone().requires_grad_(True)
        wr = weight.detach().clone().requires_grad_(True)
        xp = F.pad(xr, (pw, pw, ph, ph)).contiguous()
        n, c = xp.shape[:2]
        s = xp.stride()
        win = xp.as_strided((n, c, ho, wo, kh, kw), (s[0], s[1], s[2] * sh, s[3] * sw, s[2] * dh, s[3] * dw))
        out = torch.einsum("nchwij,ocij->nohw", win, wr)
    with torch.no_grad():
        leaves = _walk(out, grad_out)
    return leaves[xr], leaves[wr], grad_out.sum(dim=(0, 2, 3))
