"""Facts the grader's CUDA paths rely on, each checked in isolation on a CUDA machine (run by
scripts/gpu_check.sh; this process itself never touches CUDA, its forked children do).

1. The fork server's preload leaves CUDA uninitialised, so forked workers can use it.
2. Memory limits: RLIMIT_AS stops CUDA (why --device cpu workers cannot run CUDA cases), and
   RLIMIT_DATA, the limit --device cuda workers now get, lets CUDA start and still stops a large
   host allocation.
3. Triton's JIT under the grader's guard, on a cold cache, in a fresh process: the child processes
   Triton starts (with paths), and what the guard reports about them.
4. A sticky CUDA error: after an illegal memory access the process's CUDA is unusable.

Imports on a CPU-only machine (``main()`` needs CUDA).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def in_child(fn) -> str:
    """Fork like the fork server does; return what ``fn()`` says (or raised)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            msg = fn()
        except BaseException as exc:
            msg = f"raised {type(exc).__name__}: {exc}"
        os.write(w, str(msg)[:800].encode())
        os._exit(0)
    os.close(w)
    data = b"".join(iter(lambda: os.read(r, 65536), b""))
    os.waitpid(pid, 0)
    return data.decode()


def use_cuda() -> str:
    return f"forked worker: CUDA works = {float((torch.ones(4, device='cuda') * 2).sum()) == 8.0}"


def under_limit(kind: str):
    def run() -> str:
        from grader.runner import limits

        limits.apply_worker_limits(4096, kind)
        t = torch.randn(1 << 27, device="cuda")  # 512 MiB on the GPU, and back to the host
        back = t.cpu().clone()
        scaler = torch.amp.GradScaler("cuda").is_enabled()
        try:
            bytearray(6 << 30)
            host = "a 6 GiB host allocation was NOT stopped"
        except MemoryError:
            host = "a 6 GiB host allocation was stopped (MemoryError)"
        return (f"{kind}: CUDA alloc + .cpu() ok = {bool(torch.equal(back, t.cpu()))}, GradScaler('cuda') "
                f"enabled = {scaler}; {host}")
    return run


TRITON = textwrap.dedent('''
    import importlib.util, os, shutil, sys, torch, torch.nn.functional as F
    from grader.runner import guard
    from grader.problems.p15_gpu_depthwise import BANNED
    seen = []
    def hook(event, args):
        if event in ("subprocess.Popen", "os.posix_spawn", "os.exec", "os.system", "os.fork"):
            exe = args[0] if args else None
            argv = args[1] if len(args) > 1 else None
            seen.append(f"{event} exe={exe} real={os.path.realpath(str(exe)) if exe else None} argv={str(argv)[:200]}")
    sys.addaudithook(hook)
    guard.install_audit_hook()
    spec = importlib.util.spec_from_file_location("sol15", "solutions/p15_gpu_depthwise.py")
    sol = importlib.util.module_from_spec(spec); spec.loader.exec_module(sol)
    x, w = torch.randn(2, 3, 16, 16, device="cuda"), torch.randn(3, 1, 3, 3, device="cuda")
    for what in ("first call (JIT, cold cache)", "second call"):
        seen.clear()
        with guard.Guard(BANNED) as found:
            y = sol.depthwise_conv2d(x, w, None, stride=1, padding=1)
        err = float((y - F.conv2d(x, w, None, 1, 1, groups=3)).abs().max())
        print(f"3. p15 solution, {what}: max err {err:.1e}; guard tamper findings = {found.tamper}")
        for line in seen:
            print("     child:", line)
    print("   gcc helpers:", {p: shutil.which(p) for p in ("gcc", "cc", "clang", "as", "ld")},
          os.popen("gcc -print-prog-name=cc1 2>/dev/null").read().strip())
''')

STICKY = textwrap.dedent('''
    import torch
    from grader.checks import cuda_errors
    x = torch.zeros(4, device="cuda")
    try:
        torch.cuda._sleep(1)  # a harmless kernel first
        idx = torch.tensor([1 << 40], device="cuda")
        x[idx] = 1.0  # out of bounds: a device-side assert / illegal access
        torch.cuda.synchronize()
        print("4. no error raised (unexpected)")
    except Exception as exc:
        print(f"4. first error: {type(exc).__name__}: {str(exc)[:160]}; sticky per grader: "
              f"{cuda_errors.is_sticky_cuda_error(type(exc).__name__, str(exc))}")
        try:
            float(torch.ones(1, device="cuda").sum())
            print("   the next CUDA call works (not sticky)")
        except Exception as again:
            print(f"   the next CUDA call fails too: {type(again).__name__}: {str(again)[:120]}")
''')


def main() -> int:
    from grader.runner import worker

    worker.preload()
    print("1. fork server preload: CUDA initialised =", torch.cuda.is_initialized(),
          "| triton imported =", "triton" in sys.modules)
    print("  ", in_child(use_cuda))
    print("2.", in_child(under_limit("as")))
    print("  ", in_child(under_limit("data")))
    env = dict(os.environ, TRITON_CACHE_DIR=tempfile.mkdtemp(prefix="probe-triton-"), PYTHONPATH=str(ROOT))
    env.pop("TRITON_INTERPRET", None)
    subprocess.run([sys.executable, "-c", TRITON], env=env, cwd=ROOT, timeout=120)
    subprocess.run([sys.executable, "-c", STICKY], env=env, cwd=ROOT, timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
