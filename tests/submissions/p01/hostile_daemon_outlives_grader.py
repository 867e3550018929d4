# expected: error
# At import: a daemon that detaches completely (setsid, a double fork, an exec with an empty
# environment, so it carries no run token), kills the fork server, so that it is not below it
# either (the worker dies with the server: this problem is an error), then keeps rewriting the
# file named after --json in the grader's command line, and writes daemon.alive beside this file,
# for as long as it lives. tests/test_hostile.py runs this through
# the real command line: the grader must kill it before it writes its reports, so the reports
# stay the grader's and daemon.alive stops changing.
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DAEMON = r'''
import os, sys, time
here, server = sys.argv[1], int(sys.argv[2])
with open(os.path.join(here, "daemon.alive"), "w") as f:
    f.write("started")
try:
    os.kill(server, 9)
except OSError:
    pass
target = None
for pid in os.listdir("/proc"):
    try:
        args = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        continue
    if b"--json" in args:
        target = args[args.index(b"--json") + 1].decode()
for _ in range(600):
    with open(os.path.join(here, "daemon.alive"), "w") as f:
        f.write(str(time.time()))
    if target:
        try:
            with open(target, "w") as f:
                f.write('{"schema": 1, "score": 999, "forged": true}')
        except OSError:
            pass
    time.sleep(0.05)
'''

server = os.getppid()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execve(sys.executable, [sys.executable, "-c", DAEMON, HERE, str(server)], {})
    os._exit(0)
# Stay in the import until the daemon has killed the fork server (which takes this worker with
# it), so the verdict does not depend on timing: an error, the worker gone before answering.
for _ in range(1000):
    if not os.path.exists(f"/proc/{server}"):
        break
    time.sleep(0.01)


def cross_correlate2d(image, kernel):
    kh, kw = kernel.shape
    out = image.new_zeros(image.shape[0] - kh + 1, image.shape[1] - kw + 1)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    return out


def convolve2d(image, kernel):
    return cross_correlate2d(image, kernel.flip(0, 1))


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    raise NotImplementedError
