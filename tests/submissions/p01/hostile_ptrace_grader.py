# expected: error
# message: ptrace refused
# options: sandbox
# Known limit (now closed): attach to the grader's fork server with ptrace to read its memory.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
if libc.ptrace(PTRACE_ATTACH, os.getppid(), 0, 0) != 0:
    raise PermissionError(f"ptrace refused: {os.strerror(ctypes.get_errno())}")
raise RuntimeError("attached to the grader")
