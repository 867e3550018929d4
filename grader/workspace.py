"""Where learner files live, where pristine stubs and solutions come from, init and reset."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from typing import TYPE_CHECKING

from grader import catalog, config

if TYPE_CHECKING:  # the spec's module imports torch; this one stays light for the CLI's fast path
    from grader.spec import ProblemSpec

MARKER = ".convkata"  # written by `grader init`; marks a directory as a workspace
_PACKAGE_ROOT = Path(__file__).resolve().parent


class WorkspaceError(Exception):
    """The workspace cannot be graded (exit code 3)."""


def checkout_root() -> Path | None:
    """The git checkout the grader runs from, if it runs from one (editable install)."""
    root = _PACKAGE_ROOT.parent
    return root if (root / "problems").is_dir() and (root / "pyproject.toml").is_file() else None


def _packaged(kind: str) -> Path:
    """'problems' or 'solutions' from the checkout, else the copies shipped in the wheel."""
    root = checkout_root()
    if root is not None:
        return root / kind
    # In a wheel, pyproject.toml maps problems/ and solutions/ to these folders of the package.
    return _PACKAGE_ROOT / {"problems": "_stubs", "solutions": "_solutions"}[kind]


def stubs_dir() -> Path:
    return _packaged("problems")


def solutions_dir() -> Path:
    return _packaged("solutions")


def find_initialised(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / MARKER).is_file():
            return directory
    return None


def resolve(workspace: str | None, solutions: bool, cwd: Path | None = None) -> Path:
    """The directory to grade: --workspace, --solutions, an init'd directory, or problems/."""
    if workspace and solutions:
        raise WorkspaceError("--workspace and --solutions cannot be used together")
    if solutions:
        return solutions_dir()
    if workspace:
        path = Path(workspace).expanduser().resolve()
        if not path.is_dir():
            raise WorkspaceError(f"workspace {workspace!r} is not a directory")
        return path
    found = find_initialised((cwd or Path.cwd()).resolve())
    if found:
        return found
    root = checkout_root()
    if root is not None:
        return root / "problems"
    raise WorkspaceError("no workspace here: run `grader init` to create one, or pass --workspace DIR")


def pristine_stub(spec: "ProblemSpec | catalog.Entry", strict: bool = False) -> str:
    """The shipped stub of ``spec``, never the learner's version of it.

    In a checkout, problems/ is also the default workspace, so the learner may have edited it, or
    even committed their work: the stub is looked up by its content (the catalog's git blob id) in
    the checkout's object store, then in the last commit, then in the folder, and each candidate
    must hash to the catalog's SHA-256. When none does (a developer changed a stub and has not
    regenerated the catalog yet), the last commit's version, else the packaged file, is taken,
    unless ``strict`` (tests), which raises LookupError instead.
    """
    entry = catalog.find(spec.id)
    candidates = []
    root = checkout_root()
    if root is not None:
        for argv in (["git", "cat-file", "blob", entry.stub_git_blob],
                     ["git", "show", f"HEAD:problems/{entry.filename}"]):
            try:
                candidates.append(subprocess.run(argv, cwd=root, check=True, capture_output=True).stdout)
            except (OSError, subprocess.CalledProcessError):
                pass
    try:
        candidates.append((stubs_dir() / entry.filename).read_bytes())
    except OSError:
        pass
    for data in candidates:
        if catalog.sha256_bytes(data) == entry.stub_sha256:
            return data.decode()
    if candidates and not strict:
        return candidates[0].decode()
    raise LookupError(f"the shipped stub of {entry.id} was not found (grader/catalog.json does not match "
                      f"problems/{entry.filename}); a developer regenerates it with scripts/stub_catalog.py")


def init(target: Path, specs: list[ProblemSpec]) -> list[Path]:
    """Copy the stubs into ``target`` (never overwriting a learner's file) and mark it."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in specs:
        dest = target / spec.filename
        if not dest.exists():
            dest.write_text(pristine_stub(spec))
            written.append(dest)
    (target / MARKER).write_text("convkata workspace: `grader run` here grades these files\n")
    return written


def backup_dir(workspace: Path) -> Path:
    """Where backups of ``workspace``'s files go: under the state dir, never inside a workspace."""
    import hashlib

    key = hashlib.sha256(str(workspace.resolve()).encode()).hexdigest()[:12]
    return config.state_dir() / "backups" / f"{workspace.name}-{key}"


def _backup(workspace: Path, spec: "ProblemSpec | catalog.Entry") -> Path | None:
    dest = workspace / spec.filename
    if not dest.exists():
        return None
    folder = backup_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = folder / f"{spec.module_name}.{stamp}.py"
    number = 1
    while backup.exists():  # two in the same second: never overwrite one
        number += 1
        backup = folder / f"{spec.module_name}.{stamp}-{number}.py"
    shutil.copy2(dest, backup)
    return backup


def backups(workspace: Path, spec: "ProblemSpec | catalog.Entry") -> list[Path]:
    """Backups of ``spec``'s file in ``workspace``, newest first."""
    folder = backup_dir(workspace)
    found = folder.glob(f"{spec.module_name}.*.py") if folder.is_dir() else []
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)


def reset(workspace: Path, spec: "ProblemSpec | catalog.Entry") -> Path | None:
    """Restore the stub, first keeping a timestamped backup of the learner's file (returned)."""
    backup = _backup(workspace, spec)
    (workspace / spec.filename).write_text(pristine_stub(spec))
    return backup


def restore(workspace: Path, spec: "ProblemSpec | catalog.Entry", backup: Path) -> Path | None:
    """Put ``backup`` back as ``spec``'s file; the file it replaces is backed up first (returned),
    so a restore can be undone the same way. Raises WorkspaceError for a backup that is not one
    of this file's."""
    if backup.resolve().parent != backup_dir(workspace).resolve() or not backup.name.startswith(spec.module_name + "."):
        raise WorkspaceError(f"{backup} is not a backup of {spec.filename} in {workspace}")
    saved = _backup(workspace, spec)
    shutil.copy2(backup, workspace / spec.filename)
    return saved
