# expected: error
# message: SystemExit
# sys.exit(0) while the module is imported: the worker reports it, the problem is an error.
import sys

sys.exit(0)
