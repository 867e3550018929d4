"""Thread count for many tiny torch ops: the parent's float64 oracles and the worker's small probes
both use it (it lives in grader.probes because a probe may import nothing of the parent's side)."""

from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def one_thread():
    """Tiny convs run fastest on one thread: on a busy or small machine, more threads mostly
    wait for each other (measured 50-1000x slower on a loaded 2-core box). For the parent's
    reference computations and for probes that run many small cases in the worker."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
