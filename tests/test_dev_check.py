"""The dev check (after rustlings): the registry, stubs and solutions agree with each other."""

from __future__ import annotations

import ast
import re

import pytest

from conftest import ROOT, shipped_stub
from grader import catalog, registry

SPECS = registry.PROBLEMS
IDS = [s.id for s in SPECS]


def _functions(path) -> dict:
    """Top-level functions and classes with their argument names (a signature's skeleton)."""
    tree = ast.parse(path.read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            found[node.name] = [a.arg for a in node.args.args + node.args.kwonlyargs]
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_") or \
                        isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    found[f"{node.name}.{item.name}"] = [a.arg for a in item.args.args]
    return found


def test_ids_are_unique_ordered_and_well_formed():
    assert len(set(IDS)) == len(IDS)
    assert all(re.fullmatch(r"p\d\d", i) for i in IDS)
    assert IDS == sorted(IDS)
    names = [s.name for s in SPECS]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z0-9_]+", n) for n in names)


def test_no_stray_files():
    present = {p.name for p in (ROOT / "solutions").glob("*.py")}
    assert present == {s.filename for s in SPECS}


def test_catalog_agrees_with_the_registry():
    """grader/catalog.json (read by the CLI without torch) says what the registry says; after
    changing a problem's checks, run scripts/stub_catalog.py."""
    entries = catalog.entries()
    assert [e.id for e in entries] == IDS
    for entry, spec in zip(entries, SPECS):
        assert (entry.name, entry.title, entry.question, entry.max_score) == \
            (spec.name, spec.title, spec.question, spec.max_score), spec.id
        assert [(c.name, c.kind, c.points, c.needs_cuda) for c in entry.checks] == \
            [(c.name, c.kind, c.points, c.needs_cuda) for c in spec.checks], spec.id


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_shipped_stub_is_found_by_its_hash(spec):
    text = shipped_stub(spec.id)
    entry = catalog.find(spec.id)
    assert catalog.sha256_bytes(text.encode()) == entry.stub_sha256
    assert catalog.git_blob_id(text.encode()) == entry.stub_git_blob


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_problem_is_complete(spec, tmp_path):
    stub, solution = tmp_path / spec.filename, ROOT / "solutions" / spec.filename
    stub.write_text(shipped_stub(spec.id))
    assert solution.is_file()
    assert len(spec.hints) == 3 and all(len(h.strip()) > 20 for h in spec.hints)
    assert spec.question_text.strip() and spec.title.strip()
    assert spec.checks and all(c.points > 0 for c in spec.checks)
    assert len({c.name for c in spec.checks}) == len(spec.checks)
    stub_doc = ast.get_docstring(ast.parse(stub.read_text())) or ""
    solution_doc = ast.get_docstring(ast.parse(solution.read_text())) or ""
    assert spec.question_text.split()[0] in stub_doc, "the stub opens with its interview question"
    assert "Model answer" in solution_doc and len(solution_doc.split("Model answer", 1)[1]) > 300
    assert "NotImplementedError" in stub.read_text()
    for entry in spec.entry_points:
        assert re.search(rf"^(def|class) {entry}\b", stub.read_text(), re.M), f"stub lacks {entry}"
    stub_api, solution_api = _functions(stub), _functions(solution)
    for name, args in stub_api.items():
        assert solution_api.get(name) == args, f"{name}: stub and solution signatures differ"


def test_every_stub_is_not_started(server, shipped_stubs):
    """Graded for real in workers (the content-hash shortcut off): what the shortcut assumes."""
    from grader import grading

    run = grading.grade(list(SPECS), shipped_stubs, grading.Options(seed=1, speed=False), server=server,
                        trust_untouched=False)
    assert [p.status for p in run.problems] == ["not_started"] * len(SPECS), \
        [(p.id, p.status, p.message) for p in run.problems]
    assert run.score == 0 and run.max_score == sum(s.max_score for s in SPECS)


def test_committed_stubs_match_the_catalog(server, tmp_path):
    """A developer who changes a stub regenerates the catalog (scripts/stub_catalog.py). A stub
    committed without it still grades *not started* in a worker, and that is how it is told
    apart from a learner's own committed work, which is left alone."""
    import subprocess

    from grader import grading

    stale = []
    for spec in SPECS:
        shown = subprocess.run(["git", "show", f"HEAD:problems/{spec.filename}"], cwd=ROOT,
                               capture_output=True)
        if shown.returncode != 0 or catalog.sha256_bytes(shown.stdout) == catalog.find(spec.id).stub_sha256:
            continue
        (tmp_path / spec.filename).write_bytes(shown.stdout)
        result = grading.grade_problem(spec, tmp_path, grading.Options(seed=1, speed=False), server,
                                       trust_untouched=False)
        if result.status == "not_started":
            stale.append(spec.id)
    assert not stale, f"grader/catalog.json is stale for {stale}: run python3 scripts/stub_catalog.py"


# Trained for real, with their figures asserted, in test_p08_training / test_p09_training.
TRAINING = {"p08", "p09"}


def test_every_solution_passes(server):
    """Each reference solution passes every check (speed checks are covered in test_speed)."""
    from grader import grading

    specs = [s for s in SPECS if s.id not in TRAINING]
    run = grading.grade(specs, ROOT / "solutions", grading.Options(seed=7, speed=False), server=server)
    failures = [(p.id, p.status, p.message, [(c.name, c.message) for c in p.checks if c.status != "passed"])
                for p in run.problems if p.status != "passed"]
    assert not failures


def test_a_marker_per_problem():
    """`pytest -m p07` selects p07's tests: markers come from file names and parametrisation ids,
    and every problem's marker is registered in pyproject.toml."""
    import tomllib

    from conftest import problem_markers

    assert problem_markers("test_p11_p13_p14_cases") == {"p11", "p13", "p14"}
    assert problem_markers("test_corpus", "p07/wrong_unfold") == {"p07"}
    assert problem_markers("test_dev_check", "p15") == {"p15"}
    assert problem_markers("test_cli", "simple_p1") == set()
    markers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]
    assert {m.split(":")[0] for m in markers} >= set(IDS)
