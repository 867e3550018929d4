# expected: error
# message: Permission denied
# options: sandbox
# Known limit (now closed): read the grader's --seed from /proc/<pid>/cmdline to regenerate p09's
# held-out images. The seed travels in CONVKATA_SEED or on the command line of the grader only;
# the sandboxed worker may read no process's /proc entries but its own.
import os

seed = None
pid = os.getppid()
with open(f"/proc/{pid}/cmdline", "rb") as f:  # the fork server; then its parent, the grader
    argv = f.read().split(b"\0")
for name in os.listdir("/proc"):
    if name.isdigit() and int(name) != os.getpid():
        with open(f"/proc/{name}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        if b"--seed" in argv:
            seed = int(argv[argv.index(b"--seed") + 1])
raise RuntimeError(f"no seed found (got {seed})")
