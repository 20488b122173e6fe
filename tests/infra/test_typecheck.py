"""The generated programs type-check: one mypy run over every example x profile project, and
proof that the check catches a wrong value where mocks would accept it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlcompile.infra.generator import generate
from tests.conftest import REPO, build_example, profile
from tests.infra.conftest import CASES, shipped_profiles

_MYPY = ["--strict", "--cache-dir"]


def _mypy(folders: list[Path], cache: Path) -> subprocess.CompletedProcess[str]:
    """One mypy run; each program is checked under its folder's name, since every project's
    program is called ``__main__.py`` and one run cannot hold two modules of the same name."""
    programs = []
    for folder in folders:
        module = folder.parent / f"{folder.name}.py"
        module.write_bytes((folder / "__main__.py").read_bytes())
        programs.append(str(module))
        # The projects' copies of the components are byte-identical: one package beside the
        # programs serves them all (and mypy checks it once).
        for component in sorted((folder / "mlcompile_infra").glob("*.py")):
            target = folder.parent / "mlcompile_infra" / component.name
            target.parent.mkdir(exist_ok=True)
            if target.exists():
                assert target.read_bytes() == component.read_bytes(), component
            target.write_bytes(component.read_bytes())
    command = [sys.executable, "-m", "mypy", *_MYPY, str(cache), *programs]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)


def _projects(root: Path) -> list[Path]:
    folders = []
    platforms: dict[bytes, Path] = {}
    for example, name in CASES:
        files = generate(build_example(example), profile(name), shipped_profiles())
        for kind in ("pipeline", "platform"):
            project = {k.split("/", 1)[1]: v for k, v in files.items() if k.startswith(f"{kind}/")}
            if kind == "platform" and project["__main__.py"] in platforms:
                continue  # the same platform stack, generated from another profile
            folder = root / f"{kind}_{example}_{name.replace('-', '_')}"
            for rel, data in project.items():
                (folder / rel).parent.mkdir(parents=True, exist_ok=True)
                (folder / rel).write_bytes(data)
            folders.append(folder)
            if kind == "platform":
                platforms[project["__main__.py"]] = folder
    return folders


@pytest.mark.slow
def test_every_generated_program_type_checks(tmp_path: Path) -> None:
    folders = _projects(tmp_path / "projects")
    result = _mypy(folders, REPO / ".mypy_cache" / "generated")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_catches_an_int_where_a_str_belongs(tmp_path: Path) -> None:
    folder = tmp_path / "wrong"
    folder.mkdir()
    files = generate(build_example("churn"), profile("vertex-dev"))
    program = files["platform/__main__.py"].decode()
    wrong = program.replace("noncurrent_version_days=30", 'noncurrent_version_days="30"', 1)
    wrong = wrong.replace('name="mlc-dev-steps"', "name=42", 1)
    assert wrong.count("name=42") == 1
    (folder / "__main__.py").write_text(wrong)
    for rel, data in files.items():
        if rel.startswith("platform/mlcompile_infra/"):
            (folder / rel.split("/", 1)[1]).parent.mkdir(exist_ok=True)
            (folder / rel.split("/", 1)[1]).write_bytes(data)
    result = _mypy([folder], REPO / ".mypy_cache" / "generated")
    assert result.returncode == 1
    assert (
        'Argument "name" to "Repository" has incompatible type "int"; expected "str"'
        in result.stdout
    )
    assert 'Argument "noncurrent_version_days"' in result.stdout
