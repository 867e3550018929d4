# expected: error
# message: the worker exited with code 0
# os._exit(0) inside a call: the worker dies mid-request; the problem is an error.
import os


def cross_correlate2d(image, kernel):
    os._exit(0)


convolve2d = cross_correlate2d
conv2d = cross_correlate2d
