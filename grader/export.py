"""`grader export gradescope OUT.zip`: an autograder bundle for Gradescope.

The zip holds setup.sh and run_autograder at its root (Gradescope's layout), convkata's own source
(installed by setup.sh next to a CPU build of torch), convkata.env with the limits and the secret
seed, and a README. Gradescope's defaults are half a vCPU, 768 MB of memory and a 10-minute run,
so the bundle stretches time limits and keeps each worker's memory small, and says so.
"""

from __future__ import annotations

import secrets
import zipfile
from importlib import resources
from pathlib import Path

import grader
from grader import workspace

# Fitted to Gradescope's defaults (0.5 vCPU, 768 MB, 10 minutes); see the README in the bundle.
GRADESCOPE_TIME_SCALE = 2.0
GRADESCOPE_MEMORY_MB = 384
_SOURCE_FILES = ("pyproject.toml", "README.md", "LICENSE")
_SOURCE_DIRS = ("grader", "problems", "solutions")


def _template(name: str) -> bytes:
    return resources.files("grader.templates").joinpath(name).read_bytes()


def _env_file(problems: list[str], seed: int, time_scale: float, memory_mb: int) -> str:
    import torch

    return (f"# convkata autograder settings (sourced by setup.sh and run_autograder)\n"
            f"CONVKATA_PROBLEMS=\"{' '.join(problems)}\"\n"
            f"CONVKATA_SEED={seed}  # secret: the random cases come from it\n"
            f"CONVKATA_TIME_SCALE={time_scale}  # every time limit x this (half a vCPU)\n"
            f"CONVKATA_MEMORY_MB={memory_mb}  # per worker, beyond torch's own mapping\n"
            f"CONVKATA_TORCH={torch.__version__.split('+')[0]}\n")


def _readme(problems: list[str], time_scale: float, memory_mb: int) -> str:
    return f"""# convkata {grader.__version__} autograder for Gradescope

Upload this zip as the assignment's autograder (Configure Autograder, Zip file upload). Students
submit their problem files (`p01_conv2d_naive.py`, ...), at any depth in the submission.

* Problems graded: {' '.join(problems) or 'all'}
* Limits, set for Gradescope's defaults (0.5 vCPU, 768 MB memory, 10 minutes per run):
  every time limit is multiplied by {time_scale} (`CONVKATA_TIME_SCALE`), and each worker that runs
  learner code may use {memory_mb} MiB beyond torch's own mapping (`CONVKATA_MEMORY_MB`).
  Training problems (p08, p09) need more: raise the machine's memory and CPU in Gradescope's
  settings and these values in `convkata.env` together.
* The seed in `convkata.env` is secret (students never see the bundle); change it per term.
* Learner code runs as an unprivileged user `convkata` created by setup.sh: it cannot write
  `/autograder/results` or signal the root script. `results.json` is always written: when the
  grader does not finish, it holds a visible error entry with a score of 0.
* Only the grader's own report is uploaded: `run_autograder` draws a secret per run and hands it
  to the grader on a file descriptor; the grader copies it into its report, and a report without
  it (a file learner code wrote at the report path) is replaced by a visible error with a score
  of 0. A grader that cannot write its report exits 4 and says so. The seed is passed in the
  environment, never on a command line.
* The top-level `score` equals the sum of the tests' scores (one test per check).
"""


def _source_entries(root: Path):
    for name in _SOURCE_FILES:
        if (root / name).is_file():
            yield root / name, f"convkata/{name}"
    for directory in _SOURCE_DIRS:
        for path in sorted((root / directory).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield path, f"convkata/{path.relative_to(root)}"


def export_gradescope(out: Path, problems: list[str], *, seed: int | None = None,
                      time_scale: float = GRADESCOPE_TIME_SCALE,
                      memory_mb: int = GRADESCOPE_MEMORY_MB) -> Path:
    root = workspace.checkout_root()
    if root is None:
        raise RuntimeError("grader export needs convkata's source: run it from a git checkout "
                           "(pip install -e .)")
    seed = seed if seed is not None else secrets.randbelow(2**31 - 1) + 1
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16  # executable once unpacked
            bundle.writestr(info, _template(name))
        bundle.writestr("convkata.env", _env_file(problems, seed, time_scale, memory_mb))
        bundle.writestr("README.md", _readme(problems, time_scale, memory_mb))
        for path, arcname in _source_entries(root):
            bundle.write(path, arcname)
    tmp.replace(out)
    return out
