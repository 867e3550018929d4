"""The ordered registry of problems: teaching order, one spec module each.

Registering a problem means writing ``grader/problems/<id>_<name>.py`` with a ``SPEC`` and adding
its module name here; the runner and the CLI need no change.
"""

from __future__ import annotations

import importlib

from grader.spec import ProblemSpec

_MODULES = (
    "p01_conv2d_naive",
    "p02_simple_cnn",
    "p03_conv_arithmetic",
    "p04_separable_cost",
    "p05_depthwise_separable",
    "p06_mixed_precision",
    "p07_fast_conv",
    "p08_mnist_cnn",
    "p09_image_classifier",
    "p10_bias_activation",
    "p11_conv_transpose",
    "p12_conv_backward",
    "p13_conv_as_matrix",
    "p14_pooling",
    "p15_gpu_depthwise",
)

PROBLEMS: tuple[ProblemSpec, ...] = tuple(
    importlib.import_module(f"grader.problems.{name}").SPEC for name in _MODULES)


class UnknownProblem(LookupError):
    pass


def find(key: str) -> ProblemSpec:
    """Look a problem up by 'p01', '1', '01', 'conv2d_naive' or 'p01_conv2d_naive'."""
    text = key.strip().lower().removesuffix(".py")
    for spec in PROBLEMS:
        number = spec.id[1:]
        if text in (spec.id, spec.name, spec.module_name, number, number.lstrip("0")):
            return spec
    known = ", ".join(f"{s.id} ({s.name})" for s in PROBLEMS)
    raise UnknownProblem(f"no problem {key!r}; known problems: {known}")


def select(keys) -> list[ProblemSpec]:
    """The problems named by ``keys`` in registry order (all of them when ``keys`` is empty)."""
    if not keys:
        return list(PROBLEMS)
    wanted = {find(k).id for k in keys}
    return [s for s in PROBLEMS if s.id in wanted]
