"""What a check function returns or raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Verdict:
    passed: bool
    message: str = ""
    measured: Optional[float] = None
    threshold: Optional[float] = None
    unit: Optional[str] = None
    details: dict = field(default_factory=dict)
    skipped: bool = False
    direction: Optional[str] = None  # "lower" or "higher": which way ``measured`` is better


def passed(message: str = "", **figures) -> Verdict:
    return Verdict(True, message, **figures)


def skipped(message: str) -> Verdict:
    return Verdict(False, message, skipped=True)


class Fail(Exception):
    """Raised by a check (or by the context on its behalf) to fail with a message."""

    def __init__(self, message: str, **figures):
        super().__init__(message)
        self.message = message
        self.figures = figures


class LearnerRaised(Exception):
    """Learner code raised an exception: the check is an ``error``."""

    def __init__(self, exc_type: str, message: str, traceback: str, what: str):
        super().__init__(f"{what} raised {exc_type}: {message}")
        self.exc_type = exc_type
        self.message = message
        self.text = f"{what} raised {exc_type}: {message}"
        if traceback.strip():
            self.text += "\n" + traceback.rstrip()


class LearnerNotImplemented(Exception):
    """The learner's function still raises NotImplementedError; ``what`` names it ('convolve2d()')."""

    def __init__(self, message: str = "", what: str = "", answered_before: bool = False):
        super().__init__(message)
        self.message = message
        self.what = what
        # the same function answered earlier calls: one feature is missing, the work is started
        self.answered_before = answered_before
