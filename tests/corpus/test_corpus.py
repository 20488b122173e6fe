"""The corpus of user mistakes: each file under ``cases/`` is one mistake as a user makes it.

A case's header says how it is run and what must come out::

    # class: option-type             what kind of mistake (the summary counts per class)
    # command: check {case}          the CLI arguments ({case} {tmp} {repo} {minimal} {targets})
    # setup: build {tmp}/out         optional steps before the command (see _setup)
    # blocked: botocore              optional: modules made unimportable (run in a subprocess)
    # exit: 2                        the exit code
    # expect: MLC207 {case}:5        a diagnostic that must be reported (code, optional file:line)
    # unchanged: {tmp}/out           optional: a path that must be left byte for byte as it was

Every case is also checked for what no message may show: tracebacks, internal errors, class
names of the DSL's own objects and object addresses. New cases need no code: add a file.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO

CASES = sorted((Path(__file__).parent / "cases").iterdir())
FORBIDDEN = re.compile(
    r"Traceback|internal error|ParamHandle|OutputHandle|TaskHandle|UnknownHandle|"
    r"_Placeholder|object at 0x|mlcompile_user_|This is a bug"
)
#: The classes of mistakes the corpus must cover (issue 17 and the silent list of issue 16).
REQUIRED_CLASSES = {
    "data-loss",
    "list-as-string",
    "bool-as-string",
    "timezone",
    "duplicate-key",
    "credential-shape",
    "bad-path",
    "missing-extra",
    "profile-location",
    "every-problem",
    "reserved-name",
    "internal-names",
    "metrics-hint",
    "option-line",
    "runtime-value-in-option",
    "unused-parameter",
}

_BLOCKING_MAIN = """
import importlib.abc, sys
BLOCKED = tuple(m for m in sys.argv[1].split(",") if m)
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == m or name.startswith(m + ".") for m in BLOCKED):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Blocker())
sys.argv = ["mlcompile", *sys.argv[2:]]
from mlcompile.cli.main import main
main()
"""


@dataclass
class Case:
    path: Path
    klass: str = ""
    command: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    exit: int = 2
    expect: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def parse(path: Path) -> Case:
    case = Case(path)
    for line in path.read_text().splitlines():
        match = re.match(r"^#\s*(class|command|setup|blocked|exit|expect|unchanged):\s*(.*)$", line)
        if not match:
            continue
        key, value = match.groups()
        if key == "class":
            case.klass = value.strip()
        elif key == "command":
            case.command = value.split()
        elif key == "exit":
            case.exit = int(value)
        elif key == "blocked":
            case.blocked = value.split(",")
        else:
            getattr(case, key).append(value.strip())
    return case


def fill(text: str, subst: dict[str, str]) -> str:
    """``{case}``, ``{tmp}``... replaced; other braces (JSON in a setup step) kept."""
    return re.sub(r"\{(case|tmp|repo|minimal|targets)\}", lambda m: subst[m.group(1)], text)


def _snapshot(path: Path) -> dict[str, bytes | None]:
    if path.is_file():
        return {"": path.read_bytes()}
    return {
        p.relative_to(path).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(path.rglob("*"))
    }


def _setup(step: str, subst: dict[str, str]) -> None:
    """``write PATH TEXT`` a file, ``mkdir PATH``, ``build PATH`` an earlier compile of the
    minimal example, ``infra PATH`` an earlier infra project."""
    action, _, rest = step.partition(" ")
    target, _, text = fill(rest, subst).partition(" ")
    path = Path(target)
    if action == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("\\n", "\n"))
    elif action == "mkdir":
        path.mkdir(parents=True, exist_ok=True)
    elif action in ("build", "infra"):
        command = "compile" if action == "build" else "infra"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mlcompile",
                command,
                subst["minimal"],
                "-t",
                "kubeflow-dev",
                "--out",
                target,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    else:
        raise AssertionError(f"unknown setup step {step!r}")


def run_case(case: Case, tmp: Path) -> list[str]:
    """The problems with one case; empty when it behaves as its header says."""
    work = tmp / "work"
    work.mkdir(parents=True)
    copied = work / case.path.name
    shutil.copy(case.path, copied)
    subst = {
        "case": str(copied),
        "tmp": str(work),
        "repo": str(REPO),
        "minimal": str(REPO / "examples/minimal/pipeline.py"),
        "targets": str(REPO / "targets"),
    }
    for step in case.setup:
        _setup(step, subst)
    watched = {p: _snapshot(Path(fill(p, subst))) for p in case.unchanged}
    args = [fill(a, subst) for a in case.command]
    result = subprocess.run(
        [sys.executable, "-c", _BLOCKING_MAIN, ",".join(case.blocked), *args],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    text = result.stdout + result.stderr
    problems = []
    if result.returncode != case.exit:
        problems.append(f"exit {result.returncode}, expected {case.exit}")
    bad = FORBIDDEN.search(text)
    if bad:
        problems.append(f"the output shows {bad.group(0)!r}")
    shown = text.replace(str(work) + "/", "")
    for expected in case.expect:
        code, _, where = expected.partition(" ")
        where = where.replace("{case}", copied.name)
        pattern = rf"{re.escape(where)}: (error|warning) {code}\b" if where else rf"\b{code}\b"
        if not re.search(pattern, shown):
            problems.append(f"no {code}" + (f" at {where}" if where else ""))
    for path, before in watched.items():
        if _snapshot(Path(fill(path, subst))) != before:
            problems.append(f"{path} was changed")
    if problems:
        problems.append("output:\n" + text)
    return problems


def test_the_corpus(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    cases = [parse(p) for p in CASES]
    failures: dict[str, list[str]] = {}
    per_class: collections.Counter[str] = collections.Counter()
    for index, case in enumerate(cases):
        assert case.klass and case.command, f"{case.path.name}: no class or command"
        per_class[case.klass] += 1
        problems = run_case(case, tmp_path / str(index))
        if problems:
            failures[case.path.name] = problems
    passed = len(cases) - len(failures)
    summary = f"corpus: {passed}/{len(cases)} cases pass; " + ", ".join(
        f"{k} {v}" for k, v in sorted(per_class.items())
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line(summary)
    missing = REQUIRED_CLASSES - set(per_class)
    assert not missing, f"no case of {sorted(missing)}"
    assert not failures, summary + "\n" + "\n".join(f"{k}: {v}" for k, v in failures.items())
