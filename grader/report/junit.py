"""--junit: JUnit XML, one testsuite per problem and one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from grader.report.common import cap, internal_error_text, stamp, xml_text
from grader.results import RunResult
from grader.state import write_atomic

_TAG = {"failed": "failure", "error": "error", "skipped": "skipped"}


def _properties(parent: ET.Element, values: dict) -> None:
    props = ET.SubElement(parent, "properties")
    for key, value in values.items():
        ET.SubElement(props, "property", name=key, value=xml_text(str(value)))


def render(run: RunResult) -> str:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    root = ET.Element("testsuites", name="convkata")
    _properties(root, stamp(run))
    for problem in run.problems:
        suite = ET.SubElement(root, "testsuite", name=f"{problem.id}_{problem.name}",
                              time=f"{problem.duration_s:.3f}")
        _properties(suite, {"status": problem.status, "score": problem.score,
                            "max_score": problem.max_score})
        tally = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for check in problem.checks:
            case = ET.SubElement(suite, "testcase", name=xml_text(check.name),
                                 classname=f"convkata.{problem.id}_{problem.name}", time="0")
            tally["tests"] += 1
            tag = _TAG.get(check.status)
            if tag is None:
                continue
            tally[{"failure": "failures", "error": "errors", "skipped": "skipped"}[tag]] += 1
            message = check.message or problem.message or check.status
            element = ET.SubElement(case, tag, message=xml_text(message.splitlines()[0][:500]),
                                    type=problem.status if tag != "skipped" else "skipped")
            if tag != "skipped":
                element.text = xml_text(f"{message}\n({check.score}/{check.max_score} points)")
        if problem.output:
            ET.SubElement(suite, "system-out").text = xml_text(cap(problem.output))
        for key, value in tally.items():
            suite.set(key, str(value))
            counts[key] += value
    if run.internal_error:
        suite = ET.SubElement(root, "testsuite", name="grader", tests="1", failures="0", errors="1",
                              skipped="0", time="0")
        case = ET.SubElement(suite, "testcase", name="internal grader error", classname="convkata.grader")
        ET.SubElement(case, "error", message="the grader itself failed", type="internal_error").text = \
            xml_text(internal_error_text(run))
        counts["tests"] += 1
        counts["errors"] += 1
    for key, value in counts.items():
        root.set(key, str(value))
    root.set("time", f"{run.duration_s:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(run: RunResult, path: Path) -> None:
    write_atomic(path, render(run))
