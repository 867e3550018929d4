"""The mutation audit: does the grader fail every wrong mutant of our references, and pass every
equivalent one?

    python3 -m grader.dev.audit --problems p01,p03 --sample 20 --seeds 1,2,3
    python3 scripts/mutation_audit.py --grader-root ../cases ...   (grade with another checkout)

For each problem: every first-order mutant of ``solutions/<problem>.py`` (grader.dev.mutate) is
judged by an oracle that does not use the grader (grader.dev.oracle: PyTorch in float64, OpInfo
samples, closed forms), then graded with ``grade_problem`` (one ForkServer, speed checks off) under
each seed. Outcomes:
  killed            oracle: wrong; the grader failed it under every seed
  survived          oracle: wrong; the grader passed it under at least one seed
  equivalent        oracle: equivalent; the grader passed it under every seed
  equivalent-failed oracle: equivalent; the grader failed it under some seed (honest work rejected)
  unknown           the oracle cannot decide (p08/p09: only a smoke test); the grader's verdict is kept
Results are written per problem as JSON under ``--out`` as they come (a rerun resumes), survivors
and failed equivalents are appended to ``--survivors``, and ``--report`` renders the markdown.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.dev import mutate, oracle

ROOT = Path(__file__).resolve().parents[2]
FULL = ("p01", "p02", "p03", "p04", "p05", "p06", "p07", "p10", "p11", "p12", "p13", "p14")
SAMPLED = {"p08": 5, "p09": 5, "p15": 20}  # training / Triton interpreter: a sample each


def _git_commit(path: Path) -> str:
    try:
        # The last commit that changed the grader itself (grader/dev is this tool, not the grader).
        out = subprocess.run(["git", "-C", str(path), "log", "-1", "--format=%h %s", "--", "grader",
                              ":!grader/dev"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--", "grader",
                                ":!grader/dev"], capture_output=True,
                               text=True, timeout=10).stdout.strip()
        return out.stdout.strip()[:80] + (" (+ uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def pick(mutants: list[mutate.Mutant], sample: int | None, ids: set[str] | None) -> list[mutate.Mutant]:
    """The mutants to audit: those named in ``ids``, else a fixed random sample of ``sample``."""
    if ids:
        return [m for m in mutants if m.id in ids]
    if sample and sample < len(mutants):
        chosen = set(random.Random(0).sample(range(len(mutants)), sample))
        return [m for i, m in enumerate(mutants) if i in chosen]
    return mutants


def grade_mutant(spec, source: str, seeds: list[int], server, stop_at_first_fail: bool) -> list[dict]:
    """Grade ``source`` as the learner's file under each seed (speed off); one dict per seed with
    status, failed and passed check names. A grader crash is recorded as status 'grader-bug'."""
    from grader.grading import Options, grade_problem

    grades = []
    with tempfile.TemporaryDirectory(prefix="audit-") as workspace:
        (Path(workspace) / spec.filename).write_text(source)
        for seed in seeds:
            options = Options(seed=seed, speed=False, threads=1, fail_fast=stop_at_first_fail)
            try:
                result = grade_problem(spec, Path(workspace), options, server)
            except Exception as bug:  # noqa: BLE001 - a GraderBug is a finding, not a crash of the audit
                grades.append({"seed": seed, "status": "grader-bug", "failed": [], "passed": [],
                               "message": str(bug)[:300]})
                continue
            failed = [c.name for c in result.checks if c.status in ("failed", "error")]
            grades.append({"seed": seed, "status": result.status, "failed": failed,
                           "passed": [c.name for c in result.checks if c.status == "passed"],
                           "message": next((c.message for c in result.checks if c.status in ("failed", "error")),
                                           result.message)[:300]})
    return grades


def outcome(verdict: str, grades: list[dict]) -> str:
    passed = [g for g in grades if g["status"] == "passed"]
    if verdict == "wrong":
        return "survived" if passed else "killed"
    if verdict == "equivalent":
        return "equivalent" if len(passed) == len(grades) else "equivalent-failed"
    return "unknown"


def _append_finding(path: Path, problem: str, record: dict, commit: str) -> None:
    """Append one finding to ``path`` (once per mutant id and grader), under a file lock: two audits
    (a full run and a sampled one) may append at the same time."""
    import fcntl

    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        block = _finding(problem, record, commit, text)
        if block:
            handle.write(block)


def _finding(problem: str, record: dict, commit: str, text: str) -> str:
    head = "" if text else (
        "# Mutation audit findings\n\nWrong mutants the grader passes (survivors) and equivalent mutants it "
        "fails, appended by `python3 -m grader.dev.audit` as they are found. The input is the oracle's "
        "first differing call (cases run smallest first).\n")
    marker = f"`{record['id']}`"
    if f"{marker}, grader {commit[:15]}" in text:
        return ""
    grades = record["grades"]
    if record["outcome"] == "survived":
        seeds = [g["seed"] for g in grades if g["status"] == "passed"]
        checks = next(g["passed"] for g in grades if g["status"] == "passed")
        body = (f"- passed under seeds {seeds} (all checks: {', '.join(checks)})\n"
                f"- wrong on: `{record['oracle']['case']}`: {record['oracle']['detail']}\n")
    else:
        bad = [g for g in grades if g["status"] != "passed"]
        body = "".join(f"- seed {g['seed']}: {g['status']}, failed {g['failed']}: {g['message'][:200]}\n" for g in bad)
        body += f"- the oracle: {record['oracle']['detail']} (equivalent)\n"
    return head + (f"\n## {problem} {record['outcome']}: {marker}, grader {commit[:15]}\n"
                   f"- mutant: {record['description']}\n{body}- grader audited: {commit}\n")


def audit_problem(spec, args, server, out_dir: Path, survivors: Path | None, commit: str) -> dict:
    """Mutate, judge and grade one problem; the record is saved after every mutant (resumable)."""
    reference = (ROOT / "solutions" / spec.filename).read_text()
    all_mutants = mutate.mutants(reference, spec.id)
    sample = args.sample if args.sample is not None else SAMPLED.get(spec.id)
    chosen = pick(all_mutants, sample, set(args.ids.split(",")) if args.ids else None)
    path = out_dir / f"{spec.id}.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    fingerprint = mutate.fingerprint(reference)
    done = {r["id"]: r for r in saved.get("mutants", [])} if saved.get("reference") == fingerprint \
        and saved.get("seeds") == args.seeds and saved.get("grader") == commit else {}
    record = {"problem": spec.id, "reference": fingerprint, "seeds": args.seeds, "grader": commit,
              "total_mutants": len(all_mutants), "sampled": len(chosen) < len(all_mutants), "mutants": [],
              "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "load_start": os.getloadavg()[0]}
    env = {"TRITON_INTERPRET": "1"} if spec.id == "p15" else {}
    cases = oracle.PROBLEMS[spec.id](0, not args.no_opinfo)
    probe = oracle.judge(str(ROOT / "solutions" / spec.filename), f"reference_{spec.id}", cases, 600, env)
    if probe["verdict"] == "wrong":
        raise SystemExit(f"{spec.id}: the oracle rejects the reference itself: {probe}")
    timeout = max(30.0, 20 * probe["seconds"])
    # The control: the reference itself under the same seeds and load. A reference that fails
    # (p08/p09 on a loaded machine) makes that problem's kills meaningless, and the report says so.
    record["reference_grades"] = grade_mutant(spec, reference, args.seeds, server, stop_at_first_fail=False)
    # A resumed run adds to the time already spent, and keeps the first run's starting load.
    resumed = bool(done)
    start = time.monotonic() - (saved.get("seconds", 0.0) if resumed else 0.0)
    if resumed:
        record["load_start"] = saved.get("load_start", record["load_start"])
        record["started"] = saved.get("started", record["started"])
    for index, mutant in enumerate(chosen):
        previous = done.get(mutant.id)
        if previous and previous.get("description") == mutant.description:
            if args.rejudge and previous["oracle"]["verdict"] != "wrong":
                # A stronger oracle can only find more differences: judge again, keep the grades
                # (graded in full when the verdict was not "wrong", so they serve either outcome).
                with tempfile.TemporaryDirectory(prefix="oracle-") as tmp:
                    file = Path(tmp) / spec.filename
                    file.write_text(mutant.source)
                    previous["oracle"] = oracle.judge(str(file), f"mutant_{spec.id}", cases, timeout, env)
                previous["outcome"] = outcome(previous["oracle"]["verdict"], previous["grades"])
                print(f"[{spec.id} rejudged] {previous['outcome']:<17} {mutant.id:<22} {mutant.description}", flush=True)
                if survivors and previous["outcome"] == "survived":
                    _append_finding(survivors, spec.id, previous, commit)
            record["mutants"].append(previous)
            continue
        with tempfile.TemporaryDirectory(prefix="oracle-") as tmp:
            file = Path(tmp) / spec.filename
            file.write_text(mutant.source)
            verdict = oracle.judge(str(file), f"mutant_{spec.id}", cases, timeout, env)
        grades = grade_mutant(spec, mutant.source, args.seeds, server,
                              stop_at_first_fail=verdict["verdict"] == "wrong")
        entry = {"id": mutant.id, "description": mutant.description, "operator": mutant.operator,
                 "oracle": verdict, "grades": grades, "outcome": outcome(verdict["verdict"], grades)}
        record["mutants"].append(entry)
        print(f"[{spec.id} {index + 1}/{len(chosen)}] {entry['outcome']:<17} {mutant.id:<22} {mutant.description}",
              flush=True)
        if survivors and entry["outcome"] in ("survived", "equivalent-failed"):
            _append_finding(survivors, spec.id, entry, commit)
        record["seconds"] = time.monotonic() - start
        record["load_end"] = os.getloadavg()[0]
        path.write_text(json.dumps(record, indent=1))
    record["seconds"] = time.monotonic() - start
    record["load_end"] = os.getloadavg()[0]
    path.write_text(json.dumps(record, indent=1))
    return record


def summarize(record: dict) -> dict:
    mutants = record["mutants"]
    count = lambda *names: sum(m["outcome"] in names for m in mutants)  # noqa: E731
    return {"mutants": len(mutants), "of": record["total_mutants"], "wrong": count("killed", "survived"),
            "killed": count("killed"), "survived": count("survived"), "equivalent": count("equivalent", "equivalent-failed"),
            "equivalent_failed": count("equivalent-failed"), "unknown": count("unknown")}


def render(records: list[dict], title: str = "Mutation audit", preamble: bool = True, note: str = "") -> str:
    """The markdown report: a table per problem (all in one), then survivors, failed equivalents,
    unknowns and the equivalent mutants themselves (so a reader can check the oracle's claim)."""
    lines = [f"# {title}", ""] + ([note, ""] if note else [])
    intro = ["Generated by `python3 -m grader.dev.audit` (see its docstring). Every mutant is judged by an oracle "
             "that does not use the grader (PyTorch in float64, PyTorch's OpInfo samples, closed-form "
             "arithmetic), then graded with speed checks off under each seed. *killed*: failed under every "
             "seed; *survived*: passed under at least one; *equivalent failed*: an equivalent mutant the grader "
             "rejects.", "",
             "- **Engine**: our own AST mutator (`grader/dev/mutate.py`; one change per mutant: arithmetic and "
             "comparison operators, constants, parameter defaults, swapped arguments/tuple elements/indices, "
             "deleted statements, dropped calls and keyword arguments). mutmut and cosmic-ray drive a test "
             "command inside a rewritten copy of the project; the audit needs each mutant as a stand-alone "
             "file judged by two referees, and their operator sets lack dropped calls and swapped arguments.",
             "- **Oracle** (`grader/dev/oracle.py`): PyTorch in float64 (F.conv2d, conv_transpose2d, max_pool2d, "
             "avg_pool2d, autograd), PyTorch's OpInfo sample inputs for those four ops (needs the `expecttest` "
             "package; without it they are left out and the tool says so), closed forms for p03/p04, the AMP "
             "recipe for p06; calls that omit optional arguments; non-square, grouped, dilated geometry. p08 and "
             "p09 have only a smoke test (their oracle would be accuracy): those mutants are *unknown*, graded "
             "under one seed with the training check.",
             "- **Run**: `python3 -m grader.dev.audit --problems p01,p03 --sample 20 --seeds 1,2,3 --report "
             "docs/mutation-audit.md`; `python3 scripts/mutation_audit.py --grader-root DIR ...` grades with "
             "another checkout's grader.", ""]
    lines += intro if preamble else []
    if records:
        graders = sorted({r["grader"] for r in records})
        lines += [f"Grader audited: {'; '.join(graders)}.", ""]
    lines += ["| problem | mutants | wrong | killed | survived | equivalent | equivalent failed | unknown | seeds | time | load |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in records:
        s = summarize(r)
        of = f"{s['mutants']} of {s['of']} (sample)" if r.get("sampled") else str(s["mutants"])
        control = r.get("reference_grades")
        if control and any(g["status"] != "passed" for g in control):
            of += " (the reference itself failed: " + ", ".join(
                f"seed {g['seed']} {g['status']} {g['failed']}" for g in control if g["status"] != "passed") + ")"
        lines.append(f"| {r['problem']} | {of} | {s['wrong']} | {s['killed']} | {s['survived']} | {s['equivalent']} | "
                     f"{s['equivalent_failed']} | {s['unknown']} | {','.join(map(str, r['seeds']))} | "
                     f"{r.get('seconds', 0):.0f} s | "
                     f"{r.get('load_start', 0):.1f}-{r.get('load_end', 0):.1f} |")
    sections = [("Survivors (wrong, passed under some seed)", "survived"),
                ("Equivalent mutants the grader fails", "equivalent-failed"),
                ("Unknown (the oracle cannot decide)", "unknown")]
    for title, name in sections:
        lines += ["", f"## {title}", ""]
        found = [(r["problem"], m) for r in records for m in r["mutants"] if m["outcome"] == name]
        if not found:
            lines.append("None.")
        for problem, m in found:
            seeds = ", ".join(f"{g['seed']}: {g['status']}" + (f" ({', '.join(g['failed'])})" if g["failed"] else "")
                              for g in m["grades"])
            lines.append(f"- **{m['id']}** {m['description']}  \n  grader: {seeds}  \n"
                         f"  oracle: {m['oracle']['verdict']}" + (f" on `{m['oracle']['case']}`" if m['oracle']['case'] else "")
                         + f": {m['oracle']['detail']}")
    lines += ["", "## Equivalent mutants (the oracle found no input where they differ)", ""]
    eq = [(r["problem"], m) for r in records for m in r["mutants"] if m["outcome"] == "equivalent"]
    lines += [f"- {m['id']} {m['description']}" for _, m in eq] or ["None."]
    return "\n".join(lines) + "\n"


def load_records(out_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(out_dir.glob("p*.json"))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m grader.dev.audit", description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(FULL + tuple(SAMPLED)),
                        help="comma-separated problem ids (default: all fifteen)")
    parser.add_argument("--sample", type=int, default=None,
                        help="audit a fixed random sample of N mutants per problem (default: all; p08, p09, p15 sampled)")
    parser.add_argument("--ids", default="", help="comma-separated mutant ids to audit (overrides --sample)")
    parser.add_argument("--seeds", default="1,2,3", help="grader seeds (default 1,2,3)")
    parser.add_argument("--out", default=str(ROOT / ".audit"), help="folder for the per-problem JSON results")
    parser.add_argument("--report", default="", help="write the markdown report here (e.g. docs/mutation-audit.md)")
    parser.add_argument("--survivors", default="", help="append survivors and failed equivalents to this file")
    parser.add_argument("--report-only", action="store_true", help="render --report from --out and stop")
    parser.add_argument("--title", default="Mutation audit", help="the report's title")
    parser.add_argument("--rejudge", action="store_true",
                        help="judge saved non-wrong mutants again with the current oracle (keeps their grades)")
    parser.add_argument("--no-opinfo", action="store_true", help="leave out PyTorch's OpInfo samples (faster start)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--grader-label", default="", help="how the report names the grader audited "
                        "(default: the git commit of the grader package's checkout)")
    args = parser.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",") if s]
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        Path(args.report).write_text(render(load_records(out_dir), args.title))
        return 0

    import torch

    from grader import registry
    from grader.runner.session import ForkServer

    torch.set_num_threads(1)  # the oracle forks: no thread pools in the parent
    specs = [registry.find(p) for p in args.problems.split(",") if p]
    if args.list:
        for spec in specs:
            ms = mutate.mutants((ROOT / "solutions" / spec.filename).read_text(), spec.id)
            for m in pick(ms, args.sample, set(args.ids.split(",")) if args.ids else None):
                print(m.id, m.description)
        return 0
    import grader

    commit = args.grader_label or _git_commit(Path(grader.__file__).resolve().parents[1])
    server = ForkServer()
    records = []
    try:
        for spec in specs:
            records.append(audit_problem(spec, args, server, out_dir,
                                         Path(args.survivors) if args.survivors else None, commit))
            s = summarize(records[-1])
            print(f"{spec.id}: {s}", flush=True)
    finally:
        server.close()
    if args.report:
        Path(args.report).write_text(render(load_records(out_dir), args.title))
    return 1 if any(summarize(r)["survived"] or summarize(r)["equivalent_failed"] for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
