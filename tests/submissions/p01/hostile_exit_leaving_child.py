# expected: error
# message: kept its socket open
# Inside a call: fork a child that sleeps (it inherits the worker's socket and output pipe), then
# end the worker with os._exit(0). The socket never reaches EOF while the child lives, so the
# grader must notice the worker itself is gone: an error at once, not a timeout 90 s later.
import os
import time


def cross_correlate2d(image, kernel):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
    os._exit(0)


convolve2d = cross_correlate2d
conv2d = cross_correlate2d
