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
    from grader.runner import sandbox

    sandbox.undumpable()  # learner code cannot read this process's memory or environment


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
@click.option("--seed", type=int, default=None, envvar="CONVKATA_SEED",
              help="Seed for the random cases (or CONVKATA_SEED). CI should pass a secret one in "
                   "CONVKATA_SEED, never on the command line, which other processes can read. "
                   "Default: a fresh random seed, printed.")
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
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Where full MNIST was downloaded (or set CONVKATA_DATA_DIR); default: the cache dir.")
@click.option("-v", "--verbose", is_flag=True, help="Show every check, not only failing ones.")
def run(ids, solutions, workspace, device, seed, json_path, junit, gradescope, github_summary,
        classroom, no_speed, fail_fast, time_scale, memory_mb, data_dir, verbose):
    """Grade problems (all of them, or IDS like p01, 1 or conv2d_naive)."""
    if data_dir:  # read by grader.config.data_dir() in this (trusted) process only
        from grader import config

        os.environ[config.DATA_ENV] = str(Path(data_dir).resolve())
    reports = {"json": json_path, "junit": junit, "gradescope": gradescope,
               "github_summary": github_summary, "classroom": classroom}
    code = run_command(ids=ids, solutions=solutions, workspace=workspace, device=device, seed=seed,
                       reports=reports, speed=not no_speed, fail_fast=fail_fast,
                       time_scale=time_scale, memory_mb=memory_mb, verbose=verbose)
    sys.exit(code)


def run_command(*, ids=(), solutions=False, workspace=None, device="auto", seed=None, reports=None,
                speed=True, fail_fast=False, time_scale=None, memory_mb=None, verbose=False) -> int:
    """Grade and report; returns the exit code. Report files are written whatever happens."""
    from grader.runner import limits
    from grader.runner.session import ForkServer

    limits.adopt_orphans()  # nothing a learner starts outlives this command
    server = ForkServer()  # start importing torch in the server while this process does too
    try:
        return _run(server, ids, solutions, workspace, device, seed, reports or {}, speed,
                    fail_fast, time_scale, memory_mb, verbose)
    finally:
        server.close()
        limits.kill_descendants(os.getpid())


def _run(server, ids, solutions, workspace, device, seed, reports, speed, fail_fast, time_scale,
         memory_mb, verbose) -> int:
    from grader import config, grading, registry, state
    from grader import workspace as ws
    from grader.report import terminal
    from grader.report.writers import WRITERS
    from grader.results import RunResult
    from grader.runner import limits

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
    progress = terminal.Progress(out, verbose, options.time_scale)
    try:
        run = grading.grade(specs, path, options, server=server, on_start=progress.start,
                            on_result=progress.done)
    except Exception as exc:  # the grader itself failed: still leave valid report files
        import traceback

        progress.stop()
        run.internal_error = "".join(traceback.format_exception(exc))
    finally:
        # Nothing of the learner's may be alive while the reports are written (or after).
        server.close()
        limits.kill_descendants(os.getpid())
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
        symbol, colour = terminal.SYMBOLS.get(status, ("·", "dim"))  # "not graded" yet
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
    from rich.markup import escape  # hints index tensors, e.g. out[o, i, j]: not rich markup

    out.print(f"[bold]{spec.id} {escape(spec.title)}[/]  Q{spec.question}: {escape(spec.question_text)}")
    for number in range(1, level + 1):
        out.print(f"[cyan]Hint {number}:[/] {escape(spec.hints[number - 1])}")
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
    if out.is_terminal:
        out.print(Syntax(path.read_text(), "python", line_numbers=False, word_wrap=True))
    else:  # piped or captured: the plain text, never cropped to a default width
        click.echo(path.read_text())


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


# -- data -------------------------------------------------------------------------------------
@main.group()
def data():
    """Optional data sets (the grader works offline without them)."""


@data.command("download")
@click.argument("dataset", type=click.Choice(["mnist"]))
@click.option("--dir", "directory", type=click.Path(file_okay=False),
              help="Where to put the files. Default: <data dir>/mnist, where the data dir is "
                   "$CONVKATA_DATA_DIR or ~/.cache/convkata.")
def data_download(dataset, directory):
    """Download DATASET (full MNIST), verifying each file's SHA-256; resumes partial downloads."""
    from grader.data.download import download_command

    sys.exit(download_command(dataset, directory, log=click.echo))


# -- watch ------------------------------------------------------------------------------------
@main.command("watch")
@click.argument("problem_id", required=False)
@click.option("--poll", is_flag=True, help="Poll the files instead of using inotify (network drives, containers).")
@click.option("--workspace", type=click.Path(file_okay=False), help="Watch this directory.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=None, help="Seed for the random cases (default: fresh, printed).")
@click.option("--no-speed", is_flag=True, help="Skip speed checks while iterating.")
def watch_command(problem_id, poll, workspace, device, seed, no_speed):
    """Re-grade the current problem (or PROBLEM_ID) every time its file is saved."""
    from grader import workspace as ws
    from grader.watch import watch

    if problem_id:
        _specs([problem_id])  # a usage error (exit 2) for an unknown id
    try:
        code = watch(problem_id, workspace=workspace, poll=poll, device=device, seed=seed,
                     speed=not no_speed)
    except ws.WorkspaceError as exc:
        raise Abort(str(exc), EXIT_WORKSPACE) from None
    except ValueError as exc:  # e.g. --device cuda without a GPU
        raise Abort(str(exc), EXIT_USAGE) from None
    sys.exit(code)


# -- batch ------------------------------------------------------------------------------------
@main.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True))
@click.argument("ids", nargs=-1)
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Submissions graded in parallel, each with its own fork server.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write a row per submission.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Where the JSON per submission goes. Default: beside the CSV, else DIRECTORY-results.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--seed", type=int, default=None, envvar="CONVKATA_SEED",
              help="One seed for every submission (keep it secret: pass it in CONVKATA_SEED).")
@click.option("--no-speed", is_flag=True, help="Skip speed checks (reported as skipped).")
@click.option("--time-scale", type=float, default=None, help="Multiply every time limit and budget.")
@click.option("--memory-mb", type=int, default=None, help="Memory allowance per worker in MiB.")
def batch(directory, ids, jobs, csv_path, out_dir, device, seed, no_speed, time_scale, memory_mb):
    """Grade every workspace under DIRECTORY (one subdirectory per submission)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from grader import batch as batch_mod
    from grader import config, grading

    specs = _specs(ids)
    try:
        options = grading.Options(
            seed=seed if seed is not None else random.SystemRandom().randrange(1, 2**31),
            device=grading.pick_device(device), speed=not no_speed,
            time_scale=config.time_scale(time_scale), memory_mb=config.memory_limit_mb(memory_mb))
    except ValueError as exc:
        raise Abort(str(exc), EXIT_USAGE) from None
    from grader.runner import limits

    limits.adopt_orphans()  # as in `run`: a detached learner process is killed before we exit
    root = Path(directory)
    total = len(batch_mod.submissions(root))
    click.echo(f"Grading {total} submissions in {root} (seed {options.seed}, {jobs} jobs)")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn()) as progress:
        task = progress.add_task("grading", total=total)

        def done(item):
            progress.console.print(f"{item.name}: {item.run.score}/{item.run.max_score} "
                                   f"{batch_mod.overall_status(item.run)}", markup=False, highlight=False)
            progress.advance(task)

        graded = batch_mod.batch(root, specs, options, jobs=jobs,
                                 csv_path=Path(csv_path) if csv_path else None,
                                 out_dir=Path(out_dir) if out_dir else None, on_done=done)
    limits.kill_descendants(os.getpid())
    if any(g.run.internal_error for g in graded):
        sys.exit(EXIT_INTERNAL)
    sys.exit(EXIT_OK if all(g.run.all_passed for g in graded) else EXIT_FAILED)


# -- export -----------------------------------------------------------------------------------
@main.group()
def export():
    """Bundles for grading platforms."""


@export.command("gradescope")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--problems", default="", help="Problems to grade, e.g. p01,p03 (default: all).")
@click.option("--seed", type=int, default=None, help="The bundle's secret seed (default: random).")
@click.option("--time-scale", type=float, default=None, help="Default 2.0 (half a vCPU).")
@click.option("--memory-mb", type=int, default=None, help="Per worker; default 384 (768 MB machine).")
def export_gradescope(out, problems, seed, time_scale, memory_mb):
    """Write a Gradescope autograder zip (setup.sh and run_autograder at its root) to OUT."""
    from grader import export as export_mod

    ids = [s.id for s in _specs([p for p in problems.replace(",", " ").split() if p])]
    try:
        path = export_mod.export_gradescope(
            Path(out), ids, seed=seed,
            time_scale=time_scale or export_mod.GRADESCOPE_TIME_SCALE,
            memory_mb=memory_mb or export_mod.GRADESCOPE_MEMORY_MB)
    except RuntimeError as exc:
        raise Abort(str(exc), EXIT_WORKSPACE) from None
    click.echo(f"Wrote {path}: upload it as the assignment's autograder (see README.md inside).")


if __name__ == "__main__":  # pragma: no cover
    main()
