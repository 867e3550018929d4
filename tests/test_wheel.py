"""A learner who installs the wheel without cloning: `grader init` and `grader run` work from the
stubs and solutions shipped as package data."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT
from grader import registry


def test_wheel_ships_stubs_solutions_and_data_and_grades_after_init(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True, timeout=300)
    wheel = next(wheels.glob("convkata-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in registry.PROBLEMS:
        assert f"grader/_stubs/{spec.filename}" in names and f"grader/_solutions/{spec.filename}" in names
    assert "grader/data/mnist_subset.npz" in names

    # A virtual environment that sees torch & co. from this interpreter, with the wheel installed
    # into it (it shadows the editable checkout), run from a directory outside the checkout.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
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
    assert (work / "p03_conv_arithmetic.py").read_text() == (ROOT / "problems" / "p03_conv_arithmetic.py").read_text()
    (work / "p03_conv_arithmetic.py").write_text((ROOT / "solutions" / "p03_conv_arithmetic.py").read_text())
    run = subprocess.run([str(python), "-m", "grader", "run", "p02", "p03", "--seed", "4"],
                         capture_output=True, text=True, env=env, cwd=work, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr  # p02 is still a stub
    assert "✓ p03_conv_arithmetic" in run.stdout and "not started" in run.stdout
    solution = subprocess.run([str(python), "-m", "grader", "solution", "p03"], capture_output=True,
                              text=True, env=env, cwd=work, timeout=120)
    assert solution.returncode == 0 and "Model answer" in solution.stdout
