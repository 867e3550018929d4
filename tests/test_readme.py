"""The README's promises: its two commands are what CI runs, the first grades a fresh checkout as
15 problems *not started* with no error, and the docs a successor needs are in the repository."""

from __future__ import annotations

import re

from click.testing import CliRunner

from conftest import ROOT
from grader import cli, registry


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_ci_runs_exactly_the_readme_commands():
    commands = _readme_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    install, tests = commands
    assert install.startswith("pip install torch==2.13.0 && ") and install.endswith(" && grader run")
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    # each README command is a whole line of .ci/run (the first with its exit status kept)
    assert f"{install} || status=$?" in ci_lines
    assert tests in ci_lines
    runs = [line for line in ci_lines if line and not line.startswith(("#", "set ", "cd ", "if ", "fi",
                                                                       "echo ", "exit ", "status="))]
    assert runs == [f"{install} || status=$?", tests], runs


def test_the_torch_requirement_admits_the_build_ci_installs():
    import tomllib

    from packaging.requirements import Requirement

    pinned = re.search(r"torch==([\d.]+)", _readme_commands()[0]).group(1)
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = next(Requirement(d) for d in deps if Requirement(d).name == "torch")
    assert torch.specifier.contains(pinned) and not str(torch.specifier).startswith("==")


def test_the_first_command_grades_a_fresh_checkout_as_not_started(shipped_stubs):
    result = CliRunner().invoke(cli.main, ["run", "--workspace", str(shipped_stubs)])
    assert result.exit_code == cli.EXIT_FAILED, result.output  # SPEC.md: not started is exit 1
    lines = [line for line in result.output.splitlines() if "_" in line and line[:1] in "·✓✗!⏱-"]
    assert len(lines) == len(registry.PROBLEMS) and all("not started" in line for line in lines), result.output
    assert f"({len(registry.PROBLEMS)} not started)" in result.output
    assert "error" not in result.output.lower()


def test_license_covers_the_code_and_the_data():
    text = (ROOT / "LICENSE").read_text()
    assert "MIT License" in text and "Permission is hereby granted" in text
    assert "mnist_subset.npz" in text and "CC BY-SA 3.0" in text


def test_classroom_docs_link_only_inside_the_repository():
    text = (ROOT / "docs" / "classroom.md").read_text()
    for target in re.findall(r"\]\(([^)]+)\)", text):
        assert not re.match(r"[a-z]+:", target), target
        assert (ROOT / "docs" / target.split("#")[0]).resolve().is_relative_to(ROOT), target
        assert (ROOT / "docs" / target.split("#")[0]).exists(), target
    assert "../shared" not in text and "/work/" not in text
