"""The command line: a thin click layer; each command parses and delegates to plain functions."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import click

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_WORKSPACE, EXIT_INTERNAL = 0, 1, 2, 3, 4


class Abort(click.ClickException):
    """An error for a person: a message, an exit code, no traceback."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.exit_code = code


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="convkata", prog_name="grader")
def main():
    """convkata: convolution interview problems for PyTorch, graded in isolated workers."""


def _specs(ids):
    from grader import registry

    try:
        return registry.select(ids)
    except registry.UnknownProblem as exc:
        raise click.BadParameter(str(exc), param_hint="IDS") from None


def _workspace(workspace, solutions):
    from grader import workspace as ws

    try:
        return ws.resolve(workspace, solutions)
    except ws.WorkspaceError as exc:
        raise Abort(str(exc), EXIT_WORKSPACE) from None


# -- run --------------------------------------------------------------------------------------
@main.command()
@click.argument("ids", nargs=-1)
@click.option("--solutions", is_flag=True, help="Grade the reference solutions.")
@click.option("--workspace", type=click.Path(file_okay=False), help="Grade this directory.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=None,
              help="Seed for the random cases. CI should pass a secret one, so submitters cannot "
                   "tune to the cases. Default: a fresh random seed, printed.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write the result as JSON.")
@click.option("--junit", type=click.Path(dir_okay=False), help="Write JUnit XML (a testcase per check).")
@click.option("--gradescope", type=click.Path(dir_okay=False), help="Write Gradescope's results.json.")
@click.option("--github-summary", type=click.Path(dir_okay=False), help="Write a Markdown summary.")
@click.option("--classroom", type=click.Path(dir_okay=False), help="Write GitHub Classroom's result JSON.")
@click.option("--no-speed", is_flag=True, help="Skip speed checks (reported as skipped).")
@click.option("--fail-fast", is_flag=True, help="Stop a problem at its first failing check.")
@click.option("--time-scale", type=float, default=None,
              help="Multiply every time limit and budget (or set CONVKATA_TIME_SCALE); e.g. 2 on half a CPU.")
@click.option("--memory-mb", type=int, default=None,
              help="Memory allowance per worker in MiB (or CONVKATA_MEMORY_MB). Default 4096.")
@click.option("-v", "--verbose", is_flag=True, help="Show every check, not only failing ones.")
def run(ids, solutions, workspace, device, seed, json_path, junit, gradescope, github_summary,
        classroom, no_speed, fail_fast, time_scale, memory_mb, verbose):
    """Grade problems (all of them, or IDS like p01, 1 or conv2d_naive)."""
    reports = {"json": json_path, "junit": junit, "gradescope": gradescope,
               "github_summary": github_summary, "classroom": classroom}
    code = run_command(ids=ids, solutions=solutions, workspace=workspace, device=device, seed=seed,
                       reports=reports, speed=not no_speed, fail_fast=fail_fast,
                       time_scale=time_scale, memory_mb=memory_mb, verbose=verbose)
    sys.exit(code)


def run_command(*, ids=(), solutions=False, workspace=None, device="auto", seed=None, reports=None,
                speed=True, fail_fast=False, time_scale=None, memory_mb=None, verbose=False) -> int:
    """Grade and report; returns the exit code. Report files are written whatever happens."""
    from grader.runner.session import ForkServer

    server = ForkServer()  # start importing torch in the server while this process does too
    try:
        return _run(server, ids, solutions, workspace, device, seed, reports or {}, speed,
                    fail_fast, time_scale, memory_mb, verbose)
    finally:
        server.close()


def _run(server, ids, solutions, workspace, device, seed, reports, speed, fail_fast, time_scale,
         memory_mb, verbose) -> int:
    from grader import config, grading, registry, state
    from grader import workspace as ws
    from grader.report import terminal
    from grader.report.writers import WRITERS
    from grader.results import RunResult

    specs = _specs(ids)
    path = _workspace(workspace, solutions)
    try:
        chosen_device = grading.pick_device(device)
        options = grading.Options(
            seed=seed if seed is not None else random.SystemRandom().randrange(1, 2**31),
            device=chosen_device, speed=speed, fail_fast=fail_fast,
            time_scale=config.time_scale(time_scale), memory_mb=config.memory_limit_mb(memory_mb))
    except ValueError as exc:
        raise Abort(str(exc), EXIT_USAGE) from None
    out = terminal.console()
    out.print(f"[dim]Grading {path} on {options.device} (seed {options.seed})[/]")
    run = RunResult(problems=[], device=options.device, seed=options.seed, workspace=str(path))
    try:
        run = grading.grade(specs, path, options, server=server,
                            on_result=lambda p: out.print(terminal.problem_line(p, verbose)))
    except Exception as exc:  # the grader itself failed: still leave valid report files
        import traceback

        run.internal_error = "".join(traceback.format_exception(exc))
    finally:
        for name, target in reports.items():
            if target:
                try:
                    WRITERS[name](run, Path(target))
                except KeyError:
                    out.print(f"[red]--{name.replace('_', '-')} is not available in this version[/]")
                except OSError as exc:
                    out.print(f"[red]could not write {target}: {exc}[/]")
    out.print(terminal.summary(run))
    if Path(run.workspace).resolve() != ws.solutions_dir().resolve():
        state.record(run)  # progress of the learner's own work, never of the reference
    hint = terminal.next_steps(run, [s.id for s in registry.PROBLEMS])
    if hint and not run.internal_error:
        out.print(hint)
    if run.internal_error:
        return EXIT_INTERNAL
    return EXIT_OK if run.all_passed else EXIT_FAILED


# -- list -------------------------------------------------------------------------------------
@main.command("list")
@click.option("--workspace", type=click.Path(file_okay=False), help="Show progress for this directory.")
def list_command(workspace):
    """Problems, their interview question, and status from the last runs."""
    from rich.table import Table

    from grader import registry, state
    from grader.report import terminal

    path = _workspace(workspace, False)
    statuses = state.statuses(path)
    table = Table(title=f"convkata problems ({path})")
    for column in ("id", "problem", "interview question", "status", "score"):
        table.add_column(column)
    done = 0
    for spec in registry.PROBLEMS:
        entry = statuses.get(spec.id, {})
        status = entry.get("status", "not graded")
        done += status == "passed"
        symbol, colour = terminal.SYMBOLS.get(status, ("?", "dim"))
        score = f"{entry['score']}/{entry['max_score']}" if "score" in entry else f"-/{spec.max_score}"
        table.add_row(spec.id, spec.title, f"Q{spec.question}: {spec.question_text}",
                      f"[{colour}]{symbol} {status.replace('_', ' ')}[/]", score)
    out = terminal.console()
    out.print(table)
    out.print(f"Progress: {done}/{len(registry.PROBLEMS)} passed")


# -- hint -------------------------------------------------------------------------------------
@main.command()
@click.argument("problem_id")
@click.option("--level", type=click.IntRange(1, 3), default=1, show_default=True,
              help="1 nudges, 2 points at the method, 3 gives the key idea (never the code).")
def hint(problem_id, level):
    """Hints for a problem, from a nudge to the key idea."""
    spec = _specs([problem_id])[0]
    from grader.report import terminal

    out = terminal.console()
    out.print(f"[bold]{spec.id} {spec.title}[/]  Q{spec.question}: {spec.question_text}")
    for number in range(1, level + 1):
        out.print(f"[cyan]Hint {number}:[/] {spec.hints[number - 1]}")
    if level < 3:
        out.print(f"[dim]More: grader hint {spec.id} --level {level + 1}[/]")


# -- solution ---------------------------------------------------------------------------------
@main.command()
@click.argument("problem_id")
@click.option("--force", is_flag=True, help="Show it even though the problem has not passed here.")
def solution(problem_id, force):
    """The reference solution and its model answer, once the problem has passed."""
    from rich.syntax import Syntax

    from grader import state
    from grader import workspace as ws
    from grader.report import terminal

    spec = _specs([problem_id])[0]
    if not force and not state.passed_anywhere(spec.id):
        raise Abort(f"{spec.id} has not passed on this machine yet. Solve it first "
                    f"(grader run {spec.id}), or use --force to look anyway.", EXIT_FAILED)
    path = ws.solutions_dir() / spec.filename
    out = terminal.console()
    out.print(f"[bold]{spec.id} {spec.title}[/]: reference solution ({path})")
    out.print(Syntax(path.read_text(), "python", line_numbers=False, word_wrap=True))


# -- init / reset -----------------------------------------------------------------------------
@main.command()
@click.argument("directory", default="convkata-work", type=click.Path(file_okay=False))
def init(directory):
    """Copy the stubs into DIRECTORY (default ./convkata-work) to start working."""
    from grader import registry
    from grader import workspace as ws

    target = Path(directory).resolve()
    written = ws.init(target, list(registry.PROBLEMS))
    click.echo(f"Workspace ready in {target} ({len(written)} new files, existing files kept).")
    click.echo(f"Next: cd {directory} && edit {registry.PROBLEMS[0].filename}, then `grader run p01`.")


@main.command()
@click.argument("problem_id", required=False)
@click.option("--all", "all_problems", is_flag=True, help="Reset every problem.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--workspace", type=click.Path(file_okay=False), help="Reset in this directory.")
def reset(problem_id, all_problems, yes, workspace):
    """Restore stubs, keeping a timestamped backup of your files."""
    from grader import registry
    from grader import workspace as ws

    if bool(problem_id) == bool(all_problems):
        raise click.UsageError("give one problem ID or --all")
    specs = list(registry.PROBLEMS) if all_problems else _specs([problem_id])
    path = _workspace(workspace, False)
    names = ", ".join(s.filename for s in specs) if len(specs) < 4 else f"{len(specs)} files"
    if not yes and not click.confirm(f"Overwrite {names} in {path} with the stubs? (a backup is kept)"):
        raise Abort("nothing was changed", EXIT_FAILED)
    for spec in specs:
        backup = ws.reset(path, spec)
        where = f"; your version is kept in {backup}" if backup else ""
        click.echo(f"{spec.filename} reset{where}")


# -- doctor -----------------------------------------------------------------------------------
@main.command()
def doctor():
    """Check the environment: python, torch, CUDA/Triton, data, cores."""
    from grader.doctor import report

    ok = True
    for line, good in report():
        click.echo(("ok    " if good else "warn  ") + line)
        ok &= good
    sys.exit(EXIT_OK if ok else EXIT_FAILED)


if __name__ == "__main__":  # pragma: no cover
    main()
