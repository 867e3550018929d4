"""Run the mutation audit (grader.dev.audit), optionally grading with another checkout's grader.

    python3 scripts/mutation_audit.py --problems p01,p03 --sample 10
    python3 scripts/mutation_audit.py --grader-root /path/to/other/checkout --ids p03:86:7:compare ...

--grader-root DIR: import the `grader` package (problems, checks, runner) from DIR, while the audit
itself (grader/dev: mutator, oracle, report) and the reference solutions come from this checkout.
Every other option is grader.dev.audit's (see `--help`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _absolute(arg: str) -> str:
    """``--out=x``-style values and bare paths that exist relative to the caller, made absolute."""
    for flag in ("--out=", "--report=", "--survivors="):
        if arg.startswith(flag):
            return flag + str(Path(arg[len(flag):]).resolve())
    return arg


PATH_OPTIONS = ("--out", "--report", "--survivors")


def main() -> int:
    argv = sys.argv[1:]
    root = HERE
    if "--grader-root" in argv:
        at = argv.index("--grader-root")
        root = Path(argv[at + 1]).resolve()
        del argv[at:at + 2]
    if root != HERE:
        # The fork server imports the grader from its working directory (python -m puts the cwd
        # first on sys.path), so the whole run moves there; paths given relative to here still work.
        argv = [str(Path(a).resolve()) if i and argv[i - 1] in PATH_OPTIONS else _absolute(a)
                for i, a in enumerate(argv)]
        os.chdir(root)
    sys.path.insert(0, str(root))
    import grader

    if not (Path(grader.__file__).parent / "dev" / "audit.py").exists():
        # The other checkout has no grader/dev: find this checkout's as a subpackage of its grader.
        grader.__path__.append(str(HERE / "grader"))
    from grader.dev import audit

    return audit.main(argv)


if __name__ == "__main__":
    sys.exit(main())
