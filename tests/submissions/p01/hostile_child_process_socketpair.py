# expected: error
# message: Permission denied
# options: sandbox
# Route 3: at import, start a second Python with _posixsubprocess.fork_exec (no audit event), let
# it run F.conv2d out of reach of the worker's op interception and pass the result back over a
# socket pair. The sandbox lets the worker execute only the compiler tools torch and Triton start:
# executing Python itself is refused by Landlock, whatever call starts it.
import os
import socket
import subprocess
import sys

parent_end, child_end = socket.socketpair()
CHILD = r"""
import pickle, socket, sys, torch, torch.nn.functional as F
s = socket.socket(fileno=int(sys.argv[1]))
while True:
    n = int.from_bytes(s.recv(8), "little")
    if not n: break
    buf = b""
    while len(buf) < n: buf += s.recv(n - len(buf))
    args, kwargs = pickle.loads(buf)
    out = pickle.dumps(F.conv2d(*args, **kwargs))
    s.sendall(len(out).to_bytes(8, "little") + out)
"""
# subprocess.Popen is audited; the same fork_exec it calls is not. Either way: EACCES.
child = subprocess.Popen([sys.executable, "-c", CHILD, str(child_end.fileno())],
                         pass_fds=[child_end.fileno()])


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    import pickle

    data = pickle.dumps(((x, weight, bias, stride, padding, dilation, groups), {}))
    parent_end.sendall(len(data).to_bytes(8, "little") + data)
    n = int.from_bytes(parent_end.recv(8), "little")
    buf = b""
    while len(buf) < n:
        buf += parent_end.recv(n - len(buf))
    return pickle.loads(buf)


def convolve2d(image, kernel):
    return conv2d(image[None, None], kernel[None, None])[0, 0]
