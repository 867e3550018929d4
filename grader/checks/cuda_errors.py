"""CUDA errors are sticky: after one, every later CUDA call in that process fails too.

A learner's kernel that reads out of bounds (``an illegal memory access was encountered``) or
trips a device-side assert leaves its worker's CUDA context unusable, so one bad case would turn
every check after it into the same error. The parent replaces the learner's worker after such an
error; the check that hit it keeps its ``error`` (issue 11 item 1).
"""

from __future__ import annotations

# Substrings of the messages PyTorch (c10/cuda/CUDAException, torch.AcceleratorError) and Triton's
# launcher raise for errors that corrupt the context. Out-of-memory is not among them: it is
# recoverable and PyTorch frees the cache.
STICKY_MARKERS = (
    "illegal memory access", "device-side assert", "misaligned address", "unspecified launch failure",
    "illegal instruction", "an illegal address", "CUDA error: an illegal", "CUDA error: unspecified",
    "cudaErrorIllegalAddress", "cudaErrorLaunchFailure", "CUBLAS_STATUS_EXECUTION_FAILED",
    "CUDNN_STATUS_EXECUTION_FAILED", "Triton Error [CUDA]", "CUDA_ERROR_ILLEGAL_ADDRESS",
    "CUDA_ERROR_LAUNCH_FAILED", "launch timed out",
)


def is_sticky_cuda_error(exc_type: str, message: str) -> bool:
    """True when an exception (its type name and message, as a worker reports them) leaves the
    CUDA context of its process unusable."""
    text = f"{exc_type}: {message}"
    if exc_type == "AcceleratorError":
        return "out of memory" not in text
    return any(marker in text for marker in STICKY_MARKERS)


def replace_worker_after(ctx, exc_type: str, message: str) -> bool:
    """On a CUDA run, kill the learner's worker after a sticky CUDA error so the next check gets a
    fresh one (``ctx.learner_worker()`` starts a new worker when the old one is closed). Returns
    whether it did."""
    if not str(getattr(ctx, "device", "")).startswith("cuda") or not is_sticky_cuda_error(exc_type, message):
        return False
    worker = getattr(ctx, "_learner", None)
    if worker is not None and not worker.closed:
        worker.kill()
    return True
