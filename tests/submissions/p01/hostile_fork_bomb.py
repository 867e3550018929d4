# expected: failed
# failing: worked example
# A fork bomb, bounded so that a test can run it: the first call forks a tree of sleepers (depth 4,
# 30 processes), each writing its pid to fork_bomb.pids beside this file. The grader kills them
# all when the problem ends; the test checks that none is left.
import os
import time

import torch

PIDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fork_bomb.pids")


def _bomb(depth):
    for _ in range(2):
        if os.fork() == 0:
            with open(PIDS, "a") as f:
                f.write(f"{os.getpid()}\n")
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
