# expected: error
# Kills its parent (the grader's fork server) at import. Without the OS sandbox the worker dies
# with it ("... before answering") and the grader starts a fresh fork server for whatever it
# grades next; in the sandbox (Landlock's signal scope) the kill is refused and the import fails.
import os
import signal

os.kill(os.getppid(), signal.SIGKILL)
signal.pause()
