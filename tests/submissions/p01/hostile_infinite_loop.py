# expected: timeout
# message: no answer within the problem's limit
# options: time_scale=0.05
# An infinite loop in pure Python: the parent's deadline kills the worker's process group.
def cross_correlate2d(image, kernel):
    while True:
        pass


convolve2d = cross_correlate2d
conv2d = cross_correlate2d
