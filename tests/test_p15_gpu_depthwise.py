"""p15 beyond the corpus: the interpreter set-up, a missing Triton, and the CUDA speed verdict
(which cannot run without a GPU, so its decision is tested on plain numbers)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from conftest import ROOT
from conftest import shipped_stub
from grader.checks.verdict import Fail
from grader.problems import p15_gpu_depthwise as p15


def test_missing_triton_says_how_to_install(grade_file, tmp_path):
    # A package named triton that fails to import stands in for a machine without Triton.
    # An edited stub (an untouched one is *not started* without a worker): the import runs.
    stub = shipped_stub("p15") + "# started\n"
    result = grade_file("p15", stub)
    assert result.status == "not_started"  # the stub itself imports triton fine here
    fake = tmp_path / "ws-p15" / "triton"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'triton'\")\n")
    result = grade_file("p15", stub)
    assert result.status == "error"
    assert "pip install 'convkata[gpu]'" in result.message


def test_peak_bandwidth_by_device_name():
    assert p15.peak_bandwidth("NVIDIA H100 80GB HBM3") == 3.35e12
    assert p15.peak_bandwidth("NVIDIA H100 PCIe") == 2.0e12
    assert p15.peak_bandwidth("NVIDIA H200") == 4.8e12
    assert p15.peak_bandwidth("NVIDIA A100-SXM4-80GB") == 2.039e12
    assert p15.peak_bandwidth("Some Future GPU") is None


def test_bytes_moved_counts_one_read_and_one_write():
    # 16x64x512x512 3x3 fp32, stride 1, padding 1: 1 GiB in, 1 GiB out (plus 2.3 KB of weights).
    assert p15.bytes_moved(16, 64, 512, 512, 3, 1, 1, torch.float32) == 2 * 2**30 + 64 * 9 * 4


def test_speed_cases_run_on_the_timing_engine_with_bandwidth_figures():
    check = next(c for c in p15.SPEC.checks if c.kind == "speed")
    assert check.needs_cuda and check.run is p15.gpu_speed
    large = next(c for c in p15.SPEED_CASES if c.label == "large image, 16x64x512x512 3x3 float32")
    assert large.nbytes == 2 * 2**30 + 64 * 9 * 4
    assert large.baseline["kwargs"]["groups"] == 64 and large.inputs["weight"] == (64, 1, 3, 3)
    assert {c.dtype for c in p15.SPEED_CASES} == {"float32", "float16"}


def test_interpreter_only_on_cpu_whatever_the_users_environment():
    # Issue 11 item 9: TRITON_INTERPRET=1 from the user's shell must not reach a CUDA worker.
    assert p15.SPEC.worker_env == {"cpu": {"TRITON_INTERPRET": "1"}, "cuda": {"TRITON_INTERPRET": "0"}}
    assert "triton" in p15.SPEC.worker_reimport  # re-read after the variable is set


@pytest.mark.parametrize("value, interpreted", [("0", False), ("1", True)])
def test_tritons_own_knob_reads_the_value_the_worker_sets(value, interpreted):
    # What the worker does on each device (os.environ.update, then triton re-imported), in a
    # fresh interpreter whose environment says the opposite to begin with.
    code = ("import os; os.environ.update({'TRITON_INTERPRET': %r}); import triton; "
            "print(triton.knobs.runtime.interpret)" % value)
    env = dict(os.environ, TRITON_INTERPRET="0" if interpreted else "1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == str(interpreted), out.stderr


def test_what_triton_starts_as_child_processes():
    """Issue 11 item 1: the programs Triton itself runs on CUDA (the sandbox's exec allowlist and
    the guard must let exactly these through). Recorded by replacing subprocess in Triton's
    modules, on CPU: the driver's `ldconfig -p` and the compiler's `ptxas --version`."""
    from triton.backends.nvidia import compiler, driver

    seen = []

    def record(argv, *args, **kwargs):
        seen.append(list(argv))
        return b"libcuda.so.1 (libc6,x86-64) => /nonexistent/libcuda.so.1\nCuda compilation tools, release 12.8"

    driver.libcuda_dirs.cache_clear()
    compiler.get_ptxas_version.cache_clear()
    original = (driver.subprocess.check_output, compiler.subprocess.check_output)
    driver.subprocess.check_output = compiler.subprocess.check_output = record
    try:
        with pytest.raises(AssertionError, match="libcuda"):
            driver.libcuda_dirs()
        compiler.get_ptxas_version(90)
    finally:
        driver.subprocess.check_output, compiler.subprocess.check_output = original
        driver.libcuda_dirs.cache_clear()
        compiler.get_ptxas_version.cache_clear()
    assert seen[0] == ["/sbin/ldconfig", "-p"]
    programs = {os.path.basename(argv[0]) for argv in seen}
    assert programs <= set(p15.TRITON_CHILD_PROGRAMS), seen
    assert ["--version"] in [argv[1:] for argv in seen]
