# expected: failed
# failing: worked example; cross_correlate2d; conv2d stride and padding
# Rigs every comparison and clock it can reach inside the worker: torch.allclose/equal,
# torch.testing, time.perf_counter, and the grader's own modules (compare, context, plain).
# The verdict is computed in the parent, so the all-zero answers still fail.
import time

import torch
import torch.testing

torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: True
torch.testing.assert_close = lambda *a, **k: None
time.perf_counter = lambda: 0.0
time.monotonic = lambda: 0.0

import grader.runner.plain as _plain  # noqa: E402

_plain.is_foreign = lambda value: False
try:  # parent-side modules: in the sandbox the worker cannot even read them
    import grader.checks.compare as _compare
    import grader.context as _context

    _compare.compare = lambda *a, **k: None
    _context.expect_tensor = lambda value, what: value
    _context._same = lambda before, after: True
except PermissionError:
    pass


def cross_correlate2d(image, kernel):
    return torch.zeros(image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1,
                       dtype=image.dtype)


def convolve2d(image, kernel):
    return cross_correlate2d(image, kernel)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return torch.zeros(x.shape[0], weight.shape[0], 1, 1, dtype=x.dtype)
