"""No user mistake reaches the "internal error" path: every command with bad paths, and every
command that needs a platform SDK with that SDK made unimportable, exits 2 with a diagnostic
(MLC004 for a path, MLC005 naming the extra to install), never 1 with a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

MINIMAL = str(REPO / "examples/minimal/pipeline.py")

#: Run the CLI with some top-level modules unimportable, as on an install without that extra.
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


def run_cli(
    *args: str, blocked: tuple[str, ...] = (), cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCKING_MAIN, ",".join(blocked), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def assert_user_facing(result: subprocess.CompletedProcess[str], code: str | None = None) -> None:
    text = result.stdout + result.stderr
    assert "internal error" not in text and "Traceback" not in text, text
    assert result.returncode in (0, 2), text
    if code is not None:
        assert result.returncode == 2 and code in text, text


#: (extra, modules it brings, profile whose commands need them)
EXTRAS = [
    ("kubeflow", ("kfp",), "kubeflow-dev"),
    ("sagemaker", ("boto3", "botocore"), "sagemaker-dev"),
    (
        "vertex",
        ("google.cloud.aiplatform", "google_cloud_pipeline_components", "kfp"),
        "vertex-dev",
    ),
]


@pytest.mark.parametrize(("extra", "modules", "target"), EXTRAS, ids=[e[0] for e in EXTRAS])
def test_a_missing_platform_sdk_names_its_extra(
    extra: str, modules: tuple[str, ...], target: str, tmp_path: Path
) -> None:
    for command in ("check", "compile", "infra"):
        args = [command, MINIMAL, "-t", target]
        if command != "check":
            args += ["--out", str(tmp_path / command)]
        result = run_cli(*args, blocked=modules)
        assert_user_facing(result)
        if result.returncode == 2:
            assert "MLC005" in result.stderr and f"mlcompile[{extra}]" in result.stderr, (
                result.stderr
            )
    compiled = run_cli("compile", MINIMAL, "-t", target, "--out", str(tmp_path / "c"))
    assert compiled.returncode == 0, compiled.stderr
    deployed = run_cli(
        "deploy",
        MINIMAL,
        "-t",
        target,
        "--out",
        str(tmp_path / "d"),
        "--no-infra",
        "--no-start",
        "--endpoint-url",
        "http://127.0.0.1:9",
        blocked=modules,
    )
    text = deployed.stdout + deployed.stderr
    assert "internal error" not in text and "Traceback" not in text, text


def _hosted_kubeflow(tmp_path: Path) -> str:
    """kubeflow-dev with the API host deploy needs (a closed port: nothing is reached)."""
    text = (REPO / "targets/kubeflow-dev.yaml").read_text()
    hosted = tmp_path / "kubeflow-hosted.yaml"
    hosted.write_text(text.replace("kubeflow:\n", "kubeflow:\n  host: http://127.0.0.1:9\n", 1))
    return str(hosted)


def test_a_missing_pulumi_names_its_extra(tmp_path: Path) -> None:
    result = run_cli(
        "deploy",
        MINIMAL,
        "-t",
        _hosted_kubeflow(tmp_path),
        "--out",
        str(tmp_path / "d"),
        "--no-start",
        blocked=("pulumi",),
    )
    text = result.stdout + result.stderr
    assert "internal error" not in text and "Traceback" not in text, text
    # Either the extra is named, or deploy says what it cannot do without Pulumi (exit 1, the
    # deployment failed, not a bug).
    assert ("mlcompile[infra-" in text and result.returncode == 2) or (
        result.stderr.startswith("error:") and "Pulumi" in text
    ), text


def test_every_command_with_bad_paths(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    folder = tmp_path / "folder"
    folder.mkdir()
    below = notes / "x"
    kfp = str(REPO / "targets/kubeflow-dev.yaml")
    hosted = _hosted_kubeflow(tmp_path_factory.mktemp("profiles"))  # beside, not in, tmp_path
    cases: list[tuple[list[str], str | None]] = [
        (["check", str(tmp_path / "missing.py")], "MLC002"),
        (["check", str(folder)], "MLC002"),
        (["check", str(notes)], None),
        (["check", MINIMAL, "-t", str(folder)], "MLC302"),
        (["check", MINIMAL, "-t", str(tmp_path / "none.yaml")], "MLC302"),
        (["ir", str(below)], "MLC002"),
        (["compile", MINIMAL, "-t", kfp, "--out", str(notes)], "MLC004"),
        (["compile", MINIMAL, "-t", kfp, "--out", str(below)], "MLC004"),
        (["infra", MINIMAL, "-t", kfp, "--out", str(notes)], "MLC004"),
        (["infra", MINIMAL, "-t", kfp, "--out", str(below)], "MLC004"),
        (["deploy", MINIMAL, "-t", hosted, "--out", str(notes)], "MLC004"),
        (["run", MINIMAL, "--store", str(notes)], "MLC004"),
        (["run", MINIMAL, "--store", str(below)], "MLC004"),
        (["runs", "--store", str(notes)], None),
        (["lineage", "x", "--store", str(below)], None),
        (["serve", "x", "--store", str(notes)], None),
    ]
    for args, code in cases:
        result = run_cli(*args, cwd=tmp_path)
        assert_user_facing(result, code)
        assert result.returncode == 2, (args, result.stderr)
    assert notes.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == [
        "folder",
        "notes.txt",
    ]
