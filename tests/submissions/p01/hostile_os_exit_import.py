# expected: error
# message: the worker exited with code 0
# os._exit(0) at import skips every handler: the worker is gone before it answers.
import os

os._exit(0)
