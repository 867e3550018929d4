# expected: failed
# failing: worked example
# message: memory limit
# options: memory_mb=512
# Allocates and touches 256 MiB blocks until the worker's RLIMIT_AS stops it.
import torch


def cross_correlate2d(image, kernel):
    hoard = []
    while True:
        hoard.append(torch.ones(64 << 20))  # 256 MiB of float32, every page written


convolve2d = cross_correlate2d
conv2d = cross_correlate2d
