# expected: failed
# failing: worked example; cross_correlate2d; conv2d stride and padding
# message: TypeError
# Every function takes the wrong arguments: a TypeError per check, an error, never a pass.
import torch


def cross_correlate2d(image):
    return image


def convolve2d(image):
    return image


def conv2d(x, weight):
    return torch.zeros(1)
