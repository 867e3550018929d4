"""The trust boundary in the file layout: probes (worker side) live in grader.probes, are named by
function object, and the worker runs nothing else; parent-only modules never enter a worker."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from grader import probes, registry
from grader.checks.verdict import LearnerRaised
from grader.context import Context
from grader.probes import p02_simple_cnn

ROOT = Path(__file__).resolve().parents[1]


def test_a_probe_is_named_by_its_function_object():
    assert probes.wire_name(p02_simple_cnn.forward) == "grader.probes.p02_simple_cnn:forward"
    from grader.problems import p03_conv_arithmetic

    for not_a_probe in (lambda env: None, p03_conv_arithmetic.SPEC.checks[0].run, print):
        with pytest.raises(ValueError, match="grader.probes"):
            probes.wire_name(not_a_probe)


def test_probe_modules_import_nothing_of_the_parent():
    """A probe module imports torch, the standard library, grader.runner and grader.probes only:
    oracles, case makers and data (grader.problems, grader.checks, grader.data) stay in the parent."""
    for path in sorted((ROOT / "grader" / "probes").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                if name.startswith("grader"):
                    assert name.startswith(("grader.runner", "grader.probes")) or name == "grader", (path.name, name)


def test_problem_and_check_modules_define_no_probes():
    """No ``def name(env, ...)`` outside grader.probes (a probe elsewhere would drag its module,
    and the oracles beside it, into the learner's worker)."""
    for path in sorted((ROOT / "grader").rglob("*.py")):
        if "probes" in path.parts or "runner" in path.parts:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.args.args[:1] and node.args.args[0].arg == "env":
                pytest.fail(f"{path.relative_to(ROOT)}: {node.name}(env, ...) is a probe outside grader.probes")


@pytest.mark.parametrize("name", ["os:system", "grader.problems.p03_conv_arithmetic:conv_output_size",
                                  "grader.checks.training:held_out_seed"])
def test_the_worker_runs_no_function_outside_grader_probes(server, tmp_path, name):
    spec = registry.find("p03")
    (tmp_path / spec.filename).write_text((ROOT / "solutions" / spec.filename).read_text())
    ctx = Context(spec, server, {"learner_path": str(tmp_path / spec.filename), "workspace": str(tmp_path),
                                 "device": "cpu", "memory_mb": 0, "threads": 1, "env": {},
                                 "banned": spec.banned.as_plain(), "reimport": []},
                  seed=1, device="cpu", deadline=time.monotonic() + 120, time_scale=1.0, speed=False)
    try:
        with pytest.raises(LearnerRaised) as raised:
            ctx.probe(name, 7, 3)
        assert "LookupError" in raised.value.text and "not a grader probe" in raised.value.text
    finally:
        ctx.finish()
