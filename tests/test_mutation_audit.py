"""The mutation audit's small fixed sample (CI): known-wrong mutants of p01 and p03 are judged wrong
by the PyTorch oracle and fail the grader under three seeds; a known-equivalent mutant is judged
equivalent and passes. The full audit is `python3 -m grader.dev.audit` (docs/mutation-audit.md)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from grader import registry
from grader.dev import audit, mutate, oracle

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [1, 2, 3]


@functools.lru_cache(maxsize=None)
def _mutants(problem: str) -> dict[str, mutate.Mutant]:
    spec = registry.find(problem)
    return {m.id: m for m in mutate.mutants((ROOT / "solutions" / spec.filename).read_text(), problem)}


def _judge(problem: str, mutant: mutate.Mutant, tmp_path: Path) -> dict:
    spec = registry.find(problem)
    path = tmp_path / spec.filename
    path.write_text(mutant.source)
    return oracle.judge(str(path), f"mutant_{problem}", oracle.PROBLEMS[problem](0, False), timeout_s=60)


def test_mutants_are_single_changes_with_stable_ids():
    source = (ROOT / "solutions" / "p01_conv2d_naive.py").read_text()
    first = list(_mutants("p01").values())
    p03 = (ROOT / "solutions" / "p03_conv_arithmetic.py").read_text()
    assert [m.id for m in mutate.mutants(p03, "p03")] == list(_mutants("p03"))
    assert len({m.id for m in first}) == len(first)
    assert len({m.source for m in first}) == len(first)
    by_description = {m.description for m in first}
    # one of each operator family the audit promises, with the description a reader needs
    for expected in ("line 81: padding=0 -> padding=1", "line 64: kernel.flip(0, 1) -> kernel",
                     "line 86: F.pad(x, (left, right, top, bottom)) -> x",
                     "line 91: out_per_group = c_out // groups -> pass"):
        assert expected in by_description
    assert {"arith", "compare", "const", "default", "swap", "delete", "call", "kwarg"} <= {m.operator for m in first}
    assert all(m.source != source for m in first)


@pytest.mark.parametrize("problem", ["p01", "p03"])
def test_oracle_accepts_the_reference(problem, tmp_path):
    spec = registry.find(problem)
    verdict = oracle.judge(str(ROOT / "solutions" / spec.filename), f"ref_{problem}",
                           oracle.PROBLEMS[problem](0, False), timeout_s=60)
    assert verdict["verdict"] == "equivalent", verdict


def test_oracle_reports_a_hang_as_wrong(tmp_path):
    path = tmp_path / "p03_conv_arithmetic.py"
    path.write_text("def conv_output_size(*a, **k):\n    while True:\n        pass\n")
    verdict = oracle.judge(str(path), "hang", oracle.PROBLEMS["p03"](0, False), timeout_s=3)
    assert verdict["verdict"] == "wrong" and "hangs" in verdict["detail"]


# (problem, mutant id, what the oracle must name)
KILLED = [
    ("p01", "p01:64:36:call", "convolve2d"),  # kernel.flip(0, 1) -> kernel
    ("p01", "p01:91:4:delete", "conv2d"),  # out_per_group = c_out // groups -> pass
    ("p03", "p03:60:11:arith", "conv_output_size"),  # size + 2p - span -> size + 2p + span
    ("p03", "p03:72:24:arith", "same_padding"),  # kernel_size - 1 -> kernel_size + 1
]
EQUIVALENT = ("p03", "p03:77:4:swap")  # field, jump = 1, 1 -> jump, field = 1, 1


@pytest.mark.parametrize("problem, mutant_id, entry", KILLED)
def test_wrong_mutant_is_wrong_and_killed(problem, mutant_id, entry, server, tmp_path):
    mutant = _mutants(problem)[mutant_id]
    verdict = _judge(problem, mutant, tmp_path)
    assert verdict["verdict"] == "wrong" and entry in verdict["case"], verdict
    grades = audit.grade_mutant(registry.find(problem), mutant.source, SEEDS, server, stop_at_first_fail=True)
    assert audit.outcome("wrong", grades) == "killed", grades


def test_equivalent_mutant_is_equivalent_and_passes(server, tmp_path):
    problem, mutant_id = EQUIVALENT
    mutant = _mutants(problem)[mutant_id]
    assert _judge(problem, mutant, tmp_path)["verdict"] == "equivalent"
    grades = audit.grade_mutant(registry.find(problem), mutant.source, SEEDS, server, stop_at_first_fail=False)
    assert audit.outcome("equivalent", grades) == "equivalent", grades


def test_report_lists_survivors_and_failed_equivalents():
    grades_pass = [{"seed": 1, "status": "passed", "failed": [], "passed": ["a"], "message": ""}]
    grades_fail = [{"seed": 1, "status": "failed", "failed": ["a"], "passed": [], "message": "no"}]
    records = [{"problem": "p03", "grader": "abc", "seeds": [1], "total_mutants": 3, "sampled": False,
                "seconds": 1.0, "load_start": 1.0, "load_end": 1.0, "mutants": [
                    {"id": "p03:1:0:arith", "description": "line 1: a + b -> a - b", "operator": "arith",
                     "oracle": {"verdict": "wrong", "case": "f(1)", "detail": "returned 0, expected 2"},
                     "grades": grades_pass, "outcome": audit.outcome("wrong", grades_pass)},
                    {"id": "p03:2:0:swap", "description": "line 2: (a, b) -> (b, a)", "operator": "swap",
                     "oracle": {"verdict": "equivalent", "case": "", "detail": "9 cases agree"},
                     "grades": grades_fail, "outcome": audit.outcome("equivalent", grades_fail)},
                    {"id": "p03:3:0:delete", "description": "line 3: x = 1 -> pass", "operator": "delete",
                     "oracle": {"verdict": "wrong", "case": "f(2)", "detail": "raised NameError"},
                     "grades": grades_fail, "outcome": audit.outcome("wrong", grades_fail)}]}]
    text = audit.render(records)
    assert "| p03 | 3 | 2 | 1 | 1 | 1 | 1 | 0 | 1 |" in text
    survivors = text.split("## Survivors")[1].split("## Equivalent mutants the grader fails")[0]
    assert "p03:1:0:arith" in survivors and "f(1)" in survivors and "p03:3:0:delete" not in survivors
    assert "p03:2:0:swap" in text.split("## Equivalent mutants the grader fails")[1]
