# expected: failed
# message: child process
# Correct answers, but at import it leaves processes behind: a plain child that sleeps, and a
# daemon that calls setsid, forks twice and execs sleep with an empty environment (out of the
# worker's process group, without the run's token in its environment; in the sandbox, where
# exec is refused, they sleep in Python). They print "STRAY <pid>" (the workspace is read-only
# in the sandbox); nothing of them may survive the problem. Starting a process is
# itself a failure on a problem with forbidden ops: what a child computes, no signal can see.
import os
import time

import torch


def _note(pid):
    os.write(1, f"STRAY {pid}\n".encode())  # one write: whole lines


def _exec_or_sleep(argv, env=None):
    try:
        if env is None:
            os.execv(argv[0], argv)
        os.execve(argv[0], argv, env)
    except OSError:  # the sandbox allows no /bin/sleep
        time.sleep(600)
    finally:
        os._exit(0)


def _leave_strays():
    if os.fork() == 0:  # a plain child in the worker's group
        _note(os.getpid())
        _exec_or_sleep(["/bin/sleep", "600"])
    if os.fork() == 0:  # the classic daemon
        os.setsid()
        if os.fork() == 0:
            _note(os.getpid())
            _exec_or_sleep(["/bin/sleep", "601"], {})
        os._exit(0)


_leave_strays()

def _pair(v):
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _windows(x, kh, kw, sh, sw, dh, dw):
    h_out = (x.shape[-2] - dh * (kh - 1) - 1) // sh + 1
    w_out = (x.shape[-1] - dw * (kw - 1) - 1) // sw + 1
    rows = (torch.arange(h_out) * sh)[:, None] + torch.arange(kh)[None, :] * dh
    cols = (torch.arange(w_out) * sw)[:, None] + torch.arange(kw)[None, :] * dw
    return x[..., rows[:, :, None, None], cols[None, None, :, :]]


def cross_correlate2d(image, kernel):
    win = _windows(image, kernel.shape[0], kernel.shape[1], 1, 1, 1, 1)
    return torch.einsum("akbl,kl->ab", win, kernel)


def convolve2d(image, kernel):
    return cross_correlate2d(image, kernel.flip(0, 1))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    o, cg, kh, kw = weight.shape
    if padding == "valid":
        pads = (0, 0, 0, 0)
    elif padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)
    else:
        ph, pw = _pair(padding)
        pads = (pw, pw, ph, ph)
    x = torch.nn.functional.pad(x, pads)
    n = x.shape[0]
    win = _windows(x, kh, kw, sh, sw, dh, dw)
    win = win.reshape(n, groups, cg, *win.shape[2:])
    w = weight.reshape(groups, o // groups, cg, kh, kw)
    out = torch.einsum("ngcakbl,gockl->ngoab", win, w).reshape(n, o, win.shape[3], win.shape[5])
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out
