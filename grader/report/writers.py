"""The report files the grader can write, by option name: the one table the CLI's report options
(`--json`, `--junit`, ...) are generated from, for `grader run` (a file each) and `grader batch`
(a folder each, one file per submission).

Every writer renders the whole document in memory and hands it to ``grader.state.write_atomic``:
a temporary file in the target's folder, renamed over the target, so a reader never sees half a
report and a file planted at the path beforehand is replaced, never appended to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.report import classroom, github_summary, gradescope, json_report, junit


@dataclass(frozen=True)
class Writer:
    name: str  # the option is --name with "_" as "-"
    write: Callable  # (run, path) -> None; raises OSError when the path cannot be written
    suffix: str  # of the file per submission that `grader batch` writes
    help: str

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def __call__(self, run, path: Path) -> None:
        self.write(run, Path(path))


WRITERS = {w.name: w for w in (
    Writer("json", json_report.write, ".json", "the result document (docs/results.md)"),
    Writer("junit", junit.write, ".xml", "JUnit XML, a testcase per check"),
    Writer("gradescope", gradescope.write, ".gradescope.json", "Gradescope's results.json"),
    Writer("github_summary", github_summary.write, ".md", "Markdown for $GITHUB_STEP_SUMMARY"),
    Writer("classroom", classroom.write, ".classroom.json", "GitHub Classroom's reporter result"),
)}
