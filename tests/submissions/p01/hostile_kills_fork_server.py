# expected: error
# message: before answering
# Kills its parent (the grader's fork server) at import. The worker dies with it; the problem is
# an error, and the grader starts a fresh fork server for whatever it grades next.
import os
import signal

os.kill(os.getppid(), signal.SIGKILL)
signal.pause()
