# expected: error
# message: Permission denied
# options: sandbox
# A shell (and through it any program) is not on the worker's execute allowlist.
import subprocess

subprocess.run(["/bin/sh", "-c", "echo escaped > /tmp/convkata-escaped"], check=True)
