"""What ships, readable without importing torch: each problem's id, names, checks and points, and
the hash of its untouched stub (``grader/catalog.json``).

Two jobs need it before, or instead of, the registry (whose problem modules import torch, 2-3 s
on a busy 2-core machine):

* instant feedback: a file identical to the shipped stub is *not started* without starting a
  worker, and when every selected problem is untouched no fork server and no torch start at all;
* the shipped stubs themselves, by content: ``pristine_stub`` finds them by hash in a checkout
  where a learner has edited (or committed) ``problems/``.

``catalog.json`` is generated from the registry and the committed stubs by
``python3 scripts/stub_catalog.py``; ``tests/test_dev_check.py`` fails when it is stale.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

CATALOG_PATH = Path(__file__).with_name("catalog.json")
UNTOUCHED_MESSAGE = "not started: the file is the shipped stub"


class UnknownProblem(LookupError):
    """A problem key that names no problem (a usage error)."""


@dataclass(frozen=True)
class CheckEntry:
    name: str
    kind: str  # correctness | speed | training
    points: int
    needs_cuda: bool = False


class ProblemNames:
    """What a problem's id, name and checks give: shared by ``Entry`` here and
    ``grader.spec.ProblemSpec`` (which imports torch; this module must not)."""

    @property
    def module_name(self) -> str:
        return f"{self.id}_{self.name}"

    @property
    def filename(self) -> str:
        return f"{self.module_name}.py"

    @property
    def max_score(self) -> int:
        return sum(c.points for c in self.checks)


@dataclass(frozen=True)
class Entry(ProblemNames):
    id: str
    name: str
    title: str
    question: int
    checks: tuple[CheckEntry, ...]
    stub_sha256: str  # of the stub's bytes as shipped
    stub_git_blob: str  # ``git hash-object`` of the same bytes: found in a checkout's object store



def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob_id(data: bytes) -> str:
    """The object id git gives these bytes (``git hash-object``): SHA-1 of ``blob <len>\\0`` + data."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@functools.lru_cache(maxsize=None)
def entries() -> tuple[Entry, ...]:
    """Every problem, in teaching order. Raises OSError/ValueError if catalog.json is unreadable."""
    raw = json.loads(CATALOG_PATH.read_text())
    return tuple(Entry(id=p["id"], name=p["name"], title=p["title"], question=p["question"],
                       checks=tuple(CheckEntry(**c) for c in p["checks"]),
                       stub_sha256=p["stub_sha256"], stub_git_blob=p["stub_git_blob"])
                 for p in raw["problems"])


def find(key: str) -> Entry:
    """Look a problem up by 'p01', '1', '01', 'conv2d_naive' or 'p01_conv2d_naive' (as the registry
    does). Raises UnknownProblem naming the known problems."""
    text = key.strip().lower().removesuffix(".py")
    for entry in entries():
        number = entry.id[1:]
        if text in (entry.id, entry.name, entry.module_name, number, number.lstrip("0")):
            return entry
    known = ", ".join(f"{e.id} ({e.name})" for e in entries())
    raise UnknownProblem(f"no problem {key!r}; known problems: {known}")


def select(keys) -> list[Entry]:
    """The problems named by ``keys`` in teaching order (all of them when ``keys`` is empty)."""
    if not keys:
        return list(entries())
    wanted = {find(k).id for k in keys}
    return [e for e in entries() if e.id in wanted]


def untouched(path: Path, problem_id: str) -> bool:
    """True when ``path`` holds exactly the shipped stub of ``problem_id`` (compared by SHA-256)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return sha256_bytes(data) == find(problem_id).stub_sha256


def untouched_result(entry: Entry):
    """The result of an untouched stub, built without a worker: *not started*, every check 0."""
    from grader.results import CheckResult, ProblemResult

    checks = [CheckResult(name=c.name, kind=c.kind, status="failed", score=0, max_score=c.points,
                          message=UNTOUCHED_MESSAGE, not_implemented=True) for c in entry.checks]
    return ProblemResult(id=entry.id, name=entry.name, question=entry.question, status="not_started",
                         checks=checks, message=UNTOUCHED_MESSAGE)


def build(specs, stub_bytes: dict[str, bytes]) -> dict:
    """The catalog document for ``specs`` (registry order) and the stubs' bytes by file name."""
    problems = []
    for spec in specs:
        data = stub_bytes[spec.filename]
        problems.append({
            "id": spec.id, "name": spec.name, "title": spec.title, "question": spec.question,
            "checks": [{"name": c.name, "kind": c.kind, "points": c.points, "needs_cuda": c.needs_cuda}
                       for c in spec.checks],
            "stub_sha256": sha256_bytes(data), "stub_git_blob": git_blob_id(data),
        })
    return {"about": "generated by scripts/stub_catalog.py from the registry and the committed "
                     "stubs; do not edit by hand", "problems": problems}


def missing_result(entry: Entry, workspace: Path):
    """The result of a problem whose file is not in the workspace: *not started* (SPEC.md)."""
    from grader.results import CheckResult, ProblemResult

    checks = [CheckResult(name=c.name, kind=c.kind, status="failed", score=0, max_score=c.points,
                          message=f"{entry.filename} is not in the workspace") for c in entry.checks]
    return ProblemResult(id=entry.id, name=entry.name, question=entry.question, status="not_started",
                         checks=checks, message=f"{entry.filename} not found in {workspace}")
