# expected: failed
# failing: worked example; cross_correlate2d; conv2d stride and padding
# message: SystemExit
# sys.exit(0) inside the learner's functions: an error for the check, never a pass.
import sys


def cross_correlate2d(image, kernel):
    sys.exit(0)


convolve2d = cross_correlate2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    raise SystemExit(0)
