"""--github-summary: Markdown for $GITHUB_STEP_SUMMARY, a table with a row per problem."""

from __future__ import annotations

import html
from pathlib import Path

from grader.report.common import cap, internal_error_text, stamp
from grader.results import RunResult
from grader.state import write_atomic

_ICON = {"passed": "✅", "failed": "❌", "error": "💥", "timeout": "⏱️", "not_started": "⬜", "skipped": "➖"}


def _cell(text: str) -> str:
    """One table cell: no HTML, no pipes, no line breaks (learner text ends up in messages)."""
    return html.escape(text).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def render(run: RunResult) -> str:
    lines = [f"## convkata: {run.score}/{run.max_score}", ""]
    if run.internal_error:
        lines += ["> [!CAUTION]", "> **The grader itself failed** (internal error); the score is incomplete.", ""]
    lines += ["| Problem | Status | Score | First failing check |", "|---|---|---:|---|"]
    for problem in run.problems:
        bad = [c for c in problem.checks if c.status in ("failed", "error")]
        first = f"{bad[0].name}: {bad[0].message.splitlines()[0][:200]}" if bad and bad[0].message else ""
        if not first and problem.message and problem.status not in ("passed", "not_started"):
            first = problem.message.splitlines()[0][:200]
        lines.append(f"| {_cell(problem.id + ' ' + problem.name)} | {_ICON[problem.status]} "
                     f"{problem.status.replace('_', ' ')} | {problem.score}/{problem.max_score} | {_cell(first)} |")
    details = [(p, c) for p in run.problems for c in p.checks if c.status in ("failed", "error")
               and p.status != "not_started"]
    if details:
        lines += ["", "<details><summary>Failing checks</summary>", ""]
        for problem, check in details:
            lines.append(f"- **{_cell(problem.id)} {_cell(check.name)}** ({check.status}): "
                         f"{_cell(cap(check.message, 600))}")
        lines += ["", "</details>"]
    if run.internal_error:
        lines += ["", "<details><summary>Internal grader error</summary>", "", "<pre>",
                  html.escape(internal_error_text(run)), "</pre>", "</details>"]
    s = stamp(run)
    lines += ["", f"<sub>convkata grader {s['grader_version']}, result schema {s['schema']}, torch "
                  f"{s['torch']}, {s['device']}, seed {s['seed']}, {run.duration_s:.1f}s</sub>", ""]
    return "\n".join(lines)


def write(run: RunResult, path: Path) -> None:
    write_atomic(path, render(run))
