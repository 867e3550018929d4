# expected: failed
# failing: worked example
# A fork bomb, bounded so that a test can run it: the first call forks a tree of sleepers (depth 4,
# 30 processes), each printing "STRAY <pid>" (the workspace is read-only in the sandbox; the
# output is captured until the last holder of the pipe dies). The grader kills them all when the
# problem ends; the test checks that none is left.
import os
import time

import torch

def _bomb(depth):
    for _ in range(2):
        if os.fork() == 0:
            os.write(1, f"STRAY {os.getpid()}\n".encode())  # one write: whole lines
            if depth > 1:
                _bomb(depth - 1)
            time.sleep(600)
            os._exit(0)


_armed = [True]


def cross_correlate2d(image, kernel):
    if _armed.pop() if _armed else False:
        _bomb(4)
    return torch.zeros(image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1,
                       dtype=image.dtype)


convolve2d = cross_correlate2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return torch.zeros(1)
