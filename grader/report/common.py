"""Small helpers shared by the report formats: version stamp, capped learner output, XML-safe text."""

from __future__ import annotations

import re

import grader

OUTPUT_CAP = 4000  # characters of learner output a report keeps per problem

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def stamp(run) -> dict:
    """What every output carries: the grader's version and the result schema, and the run's setup."""
    import torch

    values = {"grader_version": grader.__version__, "schema": grader.SCHEMA_VERSION,
              "torch": torch.__version__.split("+")[0], "device": run.device, "seed": run.seed}
    if run.report_nonce:  # checked by the wrapper that uploads the report (grader/templates)
        values["report_nonce"] = run.report_nonce
    return values


def cap(text: str, limit: int = OUTPUT_CAP) -> str:
    """Head and tail of ``text`` with an explicit marker for what was cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    dropped = len(text.encode("utf-8", "replace")) - len(text[:half].encode("utf-8", "replace")) \
        - len(text[-half:].encode("utf-8", "replace"))
    return f"{text[:half]}\n[truncated {dropped} bytes]\n{text[-half:]}"


def xml_text(text: str) -> str:
    """Text that XML 1.0 can hold (learner output may contain control characters)."""
    return _XML_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", text)


def internal_error_text(run) -> str:
    return "The grader itself failed (not your code); please report it.\n" + cap(run.internal_error)
