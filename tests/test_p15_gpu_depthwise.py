"""p15 beyond the corpus: the interpreter set-up, a missing Triton, and the CUDA speed verdict
(which cannot run without a GPU, so its decision is tested on plain numbers)."""

from __future__ import annotations

import pytest
import torch

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


def _row(mine_ms, base_ms, nbytes=2 * 2**30):
    return {"label": "large", "bytes": nbytes, "learner": [t / 1e3 for t in mine_ms],
            "baseline": [t / 1e3 for t in base_ms]}


def test_speed_verdict_reports_bandwidth_and_fraction_of_peak():
    verdict = p15.speed_verdict([_row([1.0, 1.1, 1.05], [2.55, 2.6, 2.5])], "NVIDIA H100 80GB HBM3")
    assert verdict.passed and verdict.unit == "x" and verdict.threshold == 1.0
    assert verdict.measured == pytest.approx(2.55 / 1.05)
    assert "2045 GB/s, 61% of peak" in verdict.message  # 2 GiB in 1.05 ms on a 3.35 TB/s card
    assert "H100 80GB HBM3, peak 3.35 TB/s" in verdict.message


def test_speed_verdict_fails_below_the_threshold():
    with pytest.raises(Fail) as failure:
        p15.speed_verdict([_row([3.0] * 3, [2.5] * 3), _row([1.0] * 3, [1.1] * 3)], "NVIDIA H100 PCIe")
    assert failure.value.figures["measured"] < 1.0
    assert "need 1.0x" in failure.value.message


def test_speed_verdict_rejects_times_beyond_the_roofline():
    with pytest.raises(Fail, match="beyond .* peak"):  # 2 GiB in 0.1 ms would be 21 TB/s
        p15.speed_verdict([_row([0.1] * 3, [2.5] * 3)], "NVIDIA H100 80GB HBM3")


def test_interpreter_only_on_cpu():
    assert p15.SPEC.worker_env == {"cpu": {"TRITON_INTERPRET": "1"}}
    assert p15.SPEC.worker_env.get("cuda") is None  # on a GPU the real compiler runs
