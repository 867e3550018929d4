"""The command line: a thin click layer; each command parses and delegates to plain functions."""

from __future__ import annotations

import os
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


def _entries(ids):
    """The catalog entries named by IDS (no torch); a usage error for an unknown one."""
    from grader import catalog

    try:
        return catalog.select(ids)
    except catalog.UnknownProblem as exc:
        raise click.BadParameter(str(exc), param_hint="IDS") from None


def _specs(ids):
    from grader import registry

    return [registry.find(entry.id) for entry in _entries(ids)]


def _workspace(workspace, solutions):
    from grader import workspace as ws

    try:
        return ws.resolve(workspace, solutions)
    except ws.WorkspaceError as exc:
        raise Abort(str(exc), EXIT_WORKSPACE) from None


# -- options shared by the grading commands ----------------------------------------------------
SEED_ENV = "CONVKATA_SEED"


def grading_options(device_default: str = "auto"):
    """The options every grading command (`run`, `watch`, `batch`) takes, declared once; the
    command receives them as keyword arguments and hands them to ``_options``."""
    from grader import config

    def decorate(command):
        options = [
            click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=device_default,
                         show_default=True, help="Where learner code runs; auto picks CUDA when torch sees it."),
            click.option("--seed", type=int, default=None, envvar=SEED_ENV, show_envvar=True,
                         help="Seed for the random cases. CI should set a secret one in $CONVKATA_SEED, "
                              "so it is on no command line and submitters cannot tune to the cases. "
                              "Default: a fresh random seed, printed."),
            click.option("--no-speed", is_flag=True, help="Skip speed checks (reported as skipped)."),
            click.option("--time-scale", type=float, default=None, envvar=config.TIME_SCALE_ENV,
                         show_envvar=True, help="Multiply every time limit and budget; e.g. 2 on half a CPU."),
            click.option("--memory-mb", type=int, default=None, envvar=config.MEMORY_ENV, show_envvar=True,
                         help=f"Memory allowance per worker in MiB. Default {config.DEFAULT_MEMORY_MB}."),
            click.option("--data-dir", type=click.Path(file_okay=False), default=None,
                         envvar=config.DATA_ENV, show_envvar=True,
                         help="Where full MNIST was downloaded; default: the cache dir."),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def report_options(per_submission: bool = False):
    """A report option per writer of ``grader.report.writers.WRITERS``: a file for `run`, a
    folder (one file per submission) for `batch`. The command receives ``reports={name: path}``."""
    from grader.report.writers import WRITERS

    def decorate(command):
        import functools

        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            kwargs["reports"] = {name: kwargs.pop(name) for name in WRITERS}
            return command(*args, **kwargs)

        for writer in reversed(list(WRITERS.values())):
            if per_submission:
                option = click.option(writer.option, writer.name, type=click.Path(file_okay=False),
                                      help=f"Write {writer.help} per submission into this folder "
                                           f"(NAME{writer.suffix}).")
            else:
                option = click.option(writer.option, writer.name, type=click.Path(dir_okay=False),
                                      help=f"Write {writer.help} to this file.")
            wrapper = option(wrapper)
        return wrapper

    return decorate


def _options(*, fail_fast=False, **given):
    """The run settings from a command's grading options (one function for every command)."""
    from grader import settings

    try:
        return settings.build(fail_fast=fail_fast, **given)
    except ValueError as exc:
        raise Abort(str(exc), EXIT_USAGE) from None


def _read_nonce(fd):
    """The per-run secret a wrapper passes on an inherited descriptor (read, then closed, before
    any learner code starts, so it is on no command line and in no environment)."""
    if fd is None:
        return ""
    try:
        with os.fdopen(fd, "r") as stream:
            return stream.read(256).strip()
    except OSError as exc:
        raise Abort(f"--report-nonce-fd {fd}: {exc}", EXIT_USAGE) from None


def write_reports(run, reports: dict, out) -> bool:
    """Write each requested report; False (after saying so) when one could not be written: the
    grader's verdict is then not where its reader will look, and the run exits 4."""
    from grader.report.writers import WRITERS

    ok = True
    for name, target in reports.items():
        if not target:
            continue
        try:
            WRITERS[name](run, Path(target))
        except OSError as exc:
            ok = False
            out.print(f"[red]error: could not write the {WRITERS[name].option} report {target}: {exc}. "
                      "The grader's result is not in that file; whatever is there is not it (exit 4).[/]",
                      markup=True, highlight=False)
    return ok


# -- run --------------------------------------------------------------------------------------
@main.command()
@click.argument("ids", nargs=-1)
@click.option("--solutions", is_flag=True, help="Grade the reference solutions.")
@click.option("--workspace", type=click.Path(file_okay=False), help="Grade this directory.")
@grading_options()
@report_options()
@click.option("--fail-fast", is_flag=True, help="Stop a problem at its first failing check.")
@click.option("-v", "--verbose", is_flag=True, help="Show every check, not only failing ones.")
@click.option("--report-nonce-fd", type=int, default=None, hidden=True,
              help="Read a per-run secret from this descriptor and copy it into every report.")
def run(ids, solutions, workspace, reports, fail_fast, verbose, report_nonce_fd, **grading):
    """Grade problems (all of them, or IDS like p01, 1 or conv2d_naive)."""
    nonce = _read_nonce(report_nonce_fd)
    options = _options(fail_fast=fail_fast, **grading)
    sys.exit(run_command(ids=ids, solutions=solutions, workspace=workspace, options=options,
                         reports=reports, verbose=verbose, nonce=nonce))


def run_command(*, ids=(), solutions=False, workspace=None, options=None, reports=None,
                verbose=False, nonce="") -> int:
    """Grade and report; returns the exit code. Report files are written whatever happens, after
    every process the learner's code started is dead.

    When every selected problem is the untouched stub (or missing), nothing runs: no fork server,
    no torch, an answer in well under a second."""
    from grader import catalog, settings, state
    from grader import workspace as ws
    from grader.report import terminal
    from grader.results import RunResult
    from grader.runner import limits

    options = options or settings.build()
    reports = {k: v for k, v in (reports or {}).items() if v}
    entries = _entries(ids)
    path = _workspace(workspace, solutions)
    out = terminal.console()
    idle = all(not (path / e.filename).is_file() or catalog.untouched(path / e.filename, e.id) for e in entries)
    limits.adopt_orphans()  # nothing a learner starts outlives this command
    server = None
    try:
        if idle:
            if reports or options.device == "cuda":  # reports name the device; "cuda" must exist
                _resolve(options)  # (this imports torch; a plain `grader run` does not)
            out.print(f"[dim]Grading {path} (seed {options.seed}): nothing to run, every problem is "
                      "the shipped stub or missing[/]")
            run = RunResult(problems=[], device=options.device, seed=options.seed, workspace=str(path),
                            report_nonce=nonce)
            for entry in entries:
                result = catalog.untouched_result(entry) if (path / entry.filename).is_file() \
                    else catalog.missing_result(entry, path)
                run.problems.append(result)
                out.print(terminal.problem_line(result, verbose))
        else:
            from grader.runner.session import ForkServer

            server = ForkServer()  # its torch import overlaps with this process's own
            run = _grade(server, entries, path, options, out, verbose, nonce)
    finally:
        # Nothing of the learner's may be alive while the reports are written (or after).
        if server is not None:
            server.close()
        limits.kill_descendants(os.getpid())
    written = write_reports(run, reports, out)
    out.print(terminal.summary(run))
    if Path(run.workspace).resolve() != ws.solutions_dir().resolve():
        state.record(run)  # progress of the learner's own work, never of the reference
    hint = terminal.next_steps(run, [e.id for e in catalog.entries()])
    if hint and not run.internal_error:
        out.print(hint)
    if run.internal_error or not written:
        return EXIT_INTERNAL
    return EXIT_OK if run.all_passed else EXIT_FAILED


def _resolve(options):
    from grader import settings

    try:
        return settings.resolve_device(options)
    except ValueError as exc:
        raise Abort(str(exc), EXIT_USAGE) from None


def _grade(server, entries, path, options, out, verbose, nonce):
    from grader import grading, registry
    from grader.report import terminal
    from grader.results import RunResult

    specs = [registry.find(e.id) for e in entries]
    _resolve(options)
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
    run.report_nonce = nonce
    return run


# -- list -------------------------------------------------------------------------------------
@main.command("list")
@click.option("--workspace", type=click.Path(file_okay=False), help="Show progress for this directory.")
def list_command(workspace):
    """Problems, their interview question, and status as your files are now."""
    from rich.table import Table

    from grader import registry, state
    from grader.report import terminal

    path = _workspace(workspace, False)
    now = state.progress(path, _entries(()))
    table = Table(title=f"convkata problems ({path})")
    for column in ("id", "problem", "interview question", "status", "score"):
        table.add_column(column)
    done = 0
    for spec in registry.PROBLEMS:
        entry = now[spec.id]
        status = entry["status"]
        done += status == "passed"
        symbol, colour = terminal.SYMBOLS.get(status, ("·", "dim"))  # edited / not graded yet
        label = {"edited": "edited since last run"}.get(status, status.replace("_", " "))
        if entry["passed_ever"] and status != "passed":
            label += " (passed before)"
        table.add_row(spec.id, spec.title, f"Q{spec.question}: {spec.question_text}",
                      f"[{colour}]{symbol} {label}[/]", entry.get("score_text", f"-/{spec.max_score}"))
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
    if not force and not state.passed_anywhere(spec.id):  # once passed, unlocked for good
        raise Abort(f"{spec.id} has never passed on this machine. Solve it first "
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
    """Restore stubs, keeping a timestamped backup of your files (grader restore brings one back)."""
    from grader import workspace as ws

    if bool(problem_id) == bool(all_problems):
        raise click.UsageError("give one problem ID or --all")
    entries = _entries(()) if all_problems else _entries([problem_id])
    path = _workspace(workspace, False)
    names = ", ".join(e.filename for e in entries) if len(entries) < 4 else f"{len(entries)} files"
    if not yes and not click.confirm(f"Overwrite {names} in {path} with the stubs? (a backup is kept)"):
        raise Abort("nothing was changed", EXIT_FAILED)
    where = f" --workspace {workspace}" if workspace else ""
    for entry in entries:
        try:
            backup = ws.reset(path, entry)
        except LookupError as exc:
            raise Abort(str(exc), EXIT_INTERNAL) from None
        if backup:
            click.echo(f"{entry.filename} reset; your version is kept in {backup}\n"
                       f"  bring it back with: grader restore {entry.id}{where}")
        else:
            click.echo(f"{entry.filename} reset (there was no file to keep)")


@main.command()
@click.argument("problem_id")
@click.argument("backup", required=False)
@click.option("--list", "list_only", is_flag=True, help="List the backups of this problem's file.")
@click.option("--workspace", type=click.Path(file_okay=False), help="Restore in this directory.")
def restore(problem_id, backup, list_only, workspace):
    """Bring back a backup that `grader reset` kept (the newest, or BACKUP from --list).

    The file it replaces is backed up first, so a restore can be undone the same way."""
    from grader import workspace as ws

    entry = _entries([problem_id])[0]
    path = _workspace(workspace, False)
    found = ws.backups(path, entry)
    if list_only:
        if not found:
            click.echo(f"no backups of {entry.filename} for {path}")
        for number, item in enumerate(found, 1):
            click.echo(f"{number}. {item.name}  ({item})")
        return
    if not found:
        raise Abort(f"no backups of {entry.filename} for {path}: nothing to restore", EXIT_FAILED)
    chosen = found[0]
    if backup:
        match = [f for i, f in enumerate(found, 1) if backup in (str(i), f.name, str(f))]
        if not match:
            raise click.BadParameter(f"{backup!r} is not one of `grader restore {entry.id} --list`",
                                     param_hint="BACKUP")
        chosen = match[0]
    try:
        saved = ws.restore(path, entry, chosen)
    except ws.WorkspaceError as exc:
        raise Abort(str(exc), EXIT_WORKSPACE) from None
    click.echo(f"{entry.filename} restored from {chosen}")
    if saved:
        click.echo(f"  the file it replaced is kept in {saved}")


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
@grading_options()
def watch_command(problem_id, poll, workspace, **grading):
    """Re-grade the current problem (or PROBLEM_ID) every time its file is saved."""
    from grader import workspace as ws
    from grader.watch import watch

    if problem_id:
        _entries([problem_id])  # a usage error (exit 2) for an unknown id
    options = _options(**grading)
    try:
        code = watch(problem_id, workspace=workspace, poll=poll, options=options)
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
              help="Where the JSON per submission goes when no --json folder is given. "
                   "Default: beside the CSV, else DIRECTORY-results.")
@grading_options(device_default="cpu")
@report_options(per_submission=True)
def batch(directory, ids, jobs, csv_path, out_dir, reports, **grading):
    """Grade every workspace under DIRECTORY (one subdirectory per submission).

    Reports are written after every submission is graded and every process they started is dead,
    so one submission's code cannot touch another's results."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from grader import batch as batch_mod
    from grader.runner import limits

    specs = _specs(ids)
    options = _resolve(_options(**grading))
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

        try:
            graded = batch_mod.batch(root, specs, options, jobs=jobs, on_done=done)
        finally:
            limits.kill_descendants(os.getpid())
    folders = {name: Path(where) for name, where in reports.items() if where}
    if "json" not in folders:  # a JSON per submission always, the CSV points at it
        folders["json"] = Path(out_dir) if out_dir else (
            Path(csv_path).parent if csv_path else root.parent / f"{root.name}-results")
    failures = batch_mod.write_reports(graded, specs, folders, Path(csv_path) if csv_path else None)
    for failure in failures:
        click.echo(f"error: could not write {failure} (exit 4)", err=True)
    if failures or any(g.run.internal_error for g in graded):
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
