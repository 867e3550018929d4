"""The report files `grader run` can write, by option name. Each writer takes (run, path)."""

from __future__ import annotations

from grader.report import classroom, github_summary, gradescope, json_report, junit

WRITERS = {
    "json": json_report.write,
    "junit": junit.write,
    "gradescope": gradescope.write,
    "github_summary": github_summary.write,
    "classroom": classroom.write,
}
