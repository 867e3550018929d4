"""Where learner files live, where pristine stubs and solutions come from, init and reset."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from grader import config
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


def pristine_stub(spec: ProblemSpec) -> str:
    """The untouched stub. In a checkout, problems/ is also the default workspace, so the
    learner may have edited it: take the committed version from git."""
    root = checkout_root()
    if root is not None:
        try:
            return subprocess.run(["git", "show", f"HEAD:problems/{spec.filename}"], cwd=root,
                                  check=True, capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError):
            pass
    return (stubs_dir() / spec.filename).read_text()


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
    import hashlib

    key = hashlib.sha256(str(workspace.resolve()).encode()).hexdigest()[:12]
    return config.state_dir() / "backups" / f"{workspace.name}-{key}"


def reset(workspace: Path, spec: ProblemSpec) -> Path | None:
    """Restore the stub, first keeping a timestamped backup of the learner's file."""
    dest = workspace / spec.filename
    backup = None
    if dest.exists():
        folder = backup_dir(workspace)
        folder.mkdir(parents=True, exist_ok=True)
        backup = folder / f"{spec.module_name}.{time.strftime('%Y%m%d-%H%M%S')}.py"
        shutil.copy2(dest, backup)
    dest.write_text(pristine_stub(spec))
    return backup
