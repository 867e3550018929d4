"""A learner who installs the wheel without cloning: `grader init` and `grader run` work from the
stubs and solutions shipped as package data."""

from __future__ import annotations

import site
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT, shipped_stub
from grader import registry


def test_wheel_ships_stubs_solutions_and_data_and_grades_after_init(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, timeout=300)
    wheel = next(wheels.glob("convkata-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in registry.PROBLEMS:
        assert f"grader/_stubs/{spec.filename}" in names and f"grader/_solutions/{spec.filename}" in names
    assert "grader/data/mnist_subset.npz" in names and "grader/catalog.json" in names
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "grader").rglob("__init__.py")}
    assert {f"{p}/__init__.py" for p in packages} <= names, "a package of grader/ is missing from the wheel"

    # A virtual environment that sees torch & co. from this interpreter, with the wheel installed
    # into it (it shadows the editable checkout), run from a directory outside the checkout.
    # Not --system-site-packages: inside a venv that is the base Python, without torch. A .pth
    # file adds this interpreter's own site-packages instead (as plain paths: their .pth files,
    # such as an editable install of convkata, are not run).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    venv_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip()
    ours = [p for p in site.getsitepackages() + [site.getusersitepackages()] if p and p != venv_site]
    (Path(venv_site) / "outer.pth").write_text("\n".join(ours) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    str(wheel)], check=True, timeout=300)
    home = tmp_path / "learner"
    home.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(home), "CONVKATA_STATE_DIR": str(home / "state")}
    where = subprocess.run([str(python), "-c", "import grader, sys; print(grader.__file__)"],
                           capture_output=True, text=True, env=env, cwd=home, check=True).stdout
    assert str(venv) in where, where
    init = subprocess.run([str(python), "-m", "grader", "init"], capture_output=True, text=True,
                          env=env, cwd=home, timeout=120)
    assert init.returncode == 0, init.stderr
    work = home / "convkata-work"
    assert (work / "p03_conv_arithmetic.py").read_text() == shipped_stub("p03")
    (work / "p03_conv_arithmetic.py").write_text((ROOT / "solutions" / "p03_conv_arithmetic.py").read_text())
    run = subprocess.run([str(python), "-m", "grader", "run", "p02", "p03", "--seed", "4"],
                         capture_output=True, text=True, env=env, cwd=work, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr  # p02 is still a stub
    assert "✓ p03_conv_arithmetic" in run.stdout and "not started" in run.stdout
    untouched = subprocess.run([str(python), "-m", "grader", "run", "p01", "p02"], capture_output=True,
                               text=True, env=env, cwd=work, timeout=120)  # the catalog ships too
    assert untouched.returncode == 1 and "nothing to run" in untouched.stdout, untouched.stdout + untouched.stderr
    solution = subprocess.run([str(python), "-m", "grader", "solution", "p03"], capture_output=True,
                              text=True, env=env, cwd=work, timeout=120)
    assert solution.returncode == 0 and "Model answer" in solution.stdout
