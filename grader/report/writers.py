"""The report files `grader run` can write, by option name. Each writer takes (run, path)."""

from __future__ import annotations

from grader.report import json_report

WRITERS = {
    "json": json_report.write,
}
