# expected: failed
# Hang the grader: SIGSTOP the fork server at import. The worker itself answers every request
# (wrong answers), but when the parent reaps the worker it asks the stopped server for the exit
# status with a blocking recv() that has no deadline (session.ForkServer._ask / Worker.kill).
import os, signal
import torch

try:
    os.kill(os.getppid(), signal.SIGSTOP)
except PermissionError:  # the sandbox's signal scope; the wrong answers still fail
    pass


def cross_correlate2d(image, kernel):
    return torch.zeros(1)

convolve2d = cross_correlate2d

def conv2d(*a, **k):
    return torch.zeros(1)
