"""Data for the training problems: the shipped MNIST subset, full MNIST when downloaded, and a
procedural image set generated from the seed."""

from __future__ import annotations


def describe() -> list[tuple[str, bool]]:
    """Lines for `grader doctor`: which MNIST the grader will use, and whether the subset is sound."""
    from grader import config
    from grader.data import mnist

    lines = []
    try:
        images, _ = mnist.load_subset()
        lines.append((f"MNIST subset: {len(images)} digits, checksum ok ({mnist.SUBSET_PATH})", True))
    except mnist.DataError as exc:
        lines.append((str(exc), False))
    directory = mnist.full_dir()
    if directory is not None:
        lines.append((f"full MNIST found in {directory}: p08 uses the official split and the 98.5% threshold", True))
    else:
        lines.append((f"full MNIST not found under {config.data_dir()} ({config.DATA_ENV}); p08 uses the "
                      "subset. `grader data download mnist` fetches it (optional)", True))
    return lines
