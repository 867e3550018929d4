"""The terminal report: one line per problem, failing checks indented beneath (rich)."""

from __future__ import annotations

import os
import secrets

from rich.console import Console
from rich.markup import escape

from grader.results import ProblemResult, RunResult, problem_score_text, run_score_text

SYMBOLS = {
    "passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red"),
    "timeout": ("⏱", "red"), "not_started": ("·", "dim"), "skipped": ("-", "dim"),
}
MESSAGE_CAP = 1200


def _clip(text: str, cap: int = MESSAGE_CAP) -> str:
    text = text.rstrip()
    return text if len(text) <= cap else text[:cap] + f" ... [truncated {len(text) - cap} characters]"


def problem_line(problem: ProblemResult, verbose: bool = False) -> str:
    symbol, colour = SYMBOLS[problem.status]
    label = problem.status.replace("_", " ")
    lines = [f"[{colour}]{symbol} {problem.id}_{problem.name}[/] "
             f"[dim]{problem_score_text(problem)}[/] {label} [dim]({problem.duration_s:.1f}s)[/]"]
    if problem.message and problem.status != "not_started":
        lines.append("    " + escape(_clip(problem.message)).replace("\n", "\n    "))
    # Checks left unrun by a crash or timeout carry the problem's own message: say it once.
    unrun = problem.message.splitlines()[0] if problem.message else None
    for check in problem.checks:
        show = verbose or (check.status in ("failed", "error") and problem.status != "not_started"
                           and check.message != unrun)
        if not show:
            continue
        symbol, colour = SYMBOLS.get(check.status, ("?", "white"))
        lines.append(f"    [{colour}]{symbol}[/] {escape(check.name)} "
                     f"[dim]{check.score}/{check.max_score}[/]")
        if check.message:
            lines.append("        " + escape(_clip(check.message)).replace("\n", "\n        "))
    if problem.output and (verbose or problem.status in ("error", "failed", "timeout")):
        lines.append("    [dim]output of your code:[/]")
        lines.append("        " + escape(_clip(problem.output, 600)).replace("\n", "\n        "))
    if len(lines) > 1 and os.environ.get("GITHUB_ACTIONS"):
        # Messages and output carry learner text: in GitHub Actions, stop workflow commands
        # (::set-output, ::add-mask...) around it, with a token the learner cannot guess.
        token = secrets.token_hex(16)
        lines[1:] = [f"::stop-commands::{token}", *lines[1:], f"::{token}::"]
    return "\n".join(lines)


def summary(run: RunResult) -> str:
    counts = {}
    for p in run.problems:
        counts[p.status] = counts.get(p.status, 0) + 1
    parts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items())
    where = f" on {run.device}" if run.device in ("cpu", "cuda") else ""  # nothing ran: no device
    text = (f"[bold]Score {run_score_text(run)}[/] ({parts}){where}, "
            f"seed {run.seed}, {run.duration_s:.1f}s")
    if run.sandbox:  # never silent about running without the OS sandbox
        style = "dim" if run.sandbox.startswith("on") else "yellow"
        text += f"\n[{style}]sandbox: {escape(run.sandbox)}[/]"
    if run.internal_error:
        text += "\n[red]The grader itself failed:[/] " + escape(_clip(run.internal_error, 2000))
    return text


def next_steps(run: RunResult, all_ids: list[str]) -> str:
    """After a pass: where the solution is and which problem is next (rustlings' flow)."""
    passed = [p for p in run.problems if p.status == "passed"]
    pending = [p for p in run.problems if p.status != "passed"]
    lines = []
    if passed and not pending:
        last = passed[-1].id
        lines.append(f"Well done. See the model answer: [bold]grader solution {last}[/]")
        later = all_ids[all_ids.index(last) + 1:] if last in all_ids else []
        if later and len(run.problems) == 1:
            lines.append(f"Next: [bold]grader run {later[0]}[/]")
    elif pending:
        first = pending[0]
        lines.append(f"Next: edit {first.id}_{first.name}.py, then [bold]grader run {first.id}[/] "
                     f"(stuck? [bold]grader hint {first.id}[/])")
    return "\n".join(lines)


class Progress:
    """While a problem grades, a live line on a terminal (training takes up to a minute): which
    problem, its kind of checks, and its time limit; then the problem's result line."""

    def __init__(self, out: Console, verbose: bool, time_scale: float):
        self.out, self.verbose, self.time_scale = out, verbose, time_scale
        self._status = None

    def start(self, spec) -> None:
        kinds = sorted({c.kind for c in spec.checks} - {"correctness"})
        what = f" ({', '.join(kinds)} checks)" if kinds else ""
        self._status = self.out.status(
            f"grading {spec.id}_{spec.name}{what}, limit {spec.time_limit_s * self.time_scale:.0f} s ...")
        self._status.start()

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def done(self, problem: ProblemResult) -> None:
        self.stop()
        self.out.print(problem_line(problem, self.verbose))


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)
