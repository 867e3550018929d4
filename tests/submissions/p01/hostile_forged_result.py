# expected: failed
# failing: worked example
# Looks for the grader's command line in /proc (walking up its ancestors) and writes a forged
# full-score result to every report path it finds (--json, --gradescope, --junit, --classroom,
# --github-summary). The grader writes its own files atomically at the end, over the forgery.
import json
import os

import torch

FORGED = {"schema": 1, "grader_version": "0.1.0", "score": 999, "max_score": 999,
          "tests": [{"name": "forged", "score": 999, "max_score": 999, "status": "passed"}],
          "problems": [{"id": "p01", "status": "passed", "score": 999, "max_score": 999}],
          "forged": True}
FLAGS = ("--json", "--gradescope", "--junit", "--classroom", "--github-summary")


def _forge():
    pid = os.getpid()
    for _ in range(8):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode() for a in f.read().split(b"\0") if a]
            with open(f"/proc/{pid}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            return
        for i, arg in enumerate(argv):
            for flag in FLAGS:
                target = None
                if arg == flag and i + 1 < len(argv):
                    target = argv[i + 1]
                elif arg.startswith(flag + "="):
                    target = arg.split("=", 1)[1]
                if target:
                    cwd = os.readlink(f"/proc/{pid}/cwd")
                    try:
                        with open(os.path.join(cwd, target), "w") as f:
                            json.dump(FORGED, f)
                    except OSError:
                        pass
        if ppid <= 1:
            return
        pid = ppid


_forge()


def cross_correlate2d(image, kernel):
    _forge()
    return torch.zeros(image.shape[0] - kernel.shape[0] + 1, image.shape[1] - kernel.shape[1] + 1,
                       dtype=image.dtype)


convolve2d = cross_correlate2d


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    _forge()
    return torch.zeros(1)
