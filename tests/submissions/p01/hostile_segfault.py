# expected: error
# message: segmentation fault
# Reads address 0: SIGSEGV in the worker, reported as such.
import ctypes


def cross_correlate2d(image, kernel):
    return ctypes.string_at(0)


convolve2d = cross_correlate2d
conv2d = cross_correlate2d
