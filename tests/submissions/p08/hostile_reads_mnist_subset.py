# expected: error
# message: Permission denied
# options: sandbox
# Known limit (now closed): read the shipped MNIST subset to look up p08's held-out labels.
import os

import grader

DATA = os.path.join(os.path.dirname(grader.__file__), "data", "mnist_subset.npz")
with open(DATA, "rb") as f:
    BLOB = f.read()
raise RuntimeError("read the grader's data")
