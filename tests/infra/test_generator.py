"""The generated project: its files, pins, determinism, and the `infra` command."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlcompile.infra.aws import cron_expression
from mlcompile.infra.generator import generate
from tests.conftest import REPO, build_example, profile
from tests.infra.conftest import generatable_profiles


def test_project_files_and_settings() -> None:
    files = generate(build_example("churn"), profile("vertex-dev"))
    assert sorted(files) == [
        "Pulumi.dev.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "requirements.txt",
        "stack.json",
    ]
    assert b"virtualenv: venv" in files["Pulumi.yaml"]
    assert b'gcp:project: "mlc-dev-project"' in files["Pulumi.dev.yaml"]
    pins = files["requirements.txt"].decode().split()
    assert any(p.startswith("pulumi-gcp==") for p in pins) and any(
        p.startswith("pulumi==") for p in pins
    )
    needs = json.loads(files["stack.json"])["needs"]
    assert needs["secrets"] == ["churn-warehouse-token"]
    assert needs["schedule"]["cron"] == "0 3 * * 1"
    assert len(files["__main__.py"].splitlines()) < 100


def test_secret_named_by_a_parameter_uses_its_default() -> None:
    files = generate(build_example("retrain"), profile("vertex-dev"))
    assert json.loads(files["stack.json"])["needs"]["secrets"] == ["warehouse-token"]


def test_generator_imports_no_provider() -> None:
    code = "import sys, mlcompile.infra.generator; print(any(m.startswith('pulumi') for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


_DIGEST = """
import hashlib, sys
sys.path.insert(0, {repo!r})
from tests.conftest import build_example, profile
from mlcompile.infra.generator import generate
for case in {cases!r}:
    files = generate(build_example(case[0]), profile(case[1]))
    print(case, hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest())
"""


def test_output_is_byte_identical_across_hash_seeds_and_directories(tmp_path: Path) -> None:
    cases = [("churn", p) for p in generatable_profiles()] + [("retrain", "vertex-dev")]
    code = _DIGEST.format(repo=str(REPO), cases=cases)
    outputs = []
    for seed, cwd in (("1", REPO), ("2", tmp_path)):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1] and outputs[0]


@pytest.mark.parametrize(
    ("unix", "eventbridge"),
    [
        ("0 3 * * 1", "cron(0 3 ? * 2 *)"),
        ("0 3 * * *", "cron(0 3 * * ? *)"),
        ("0 0 * * 0,6", "cron(0 0 ? * 1,7 *)"),
        ("15 2 1 * *", "cron(15 2 1 * ? *)"),
    ],
)
def test_cron_becomes_eventbridge_cron(unix: str, eventbridge: str) -> None:
    assert cron_expression(unix) == eventbridge


def test_infra_command_writes_the_project(tmp_path: Path) -> None:
    out = tmp_path / "infra"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcompile.cli.main",
            "infra",
            str(REPO / "examples/minimal/pipeline.py"),
            "--target",
            "vertex-dev",
            "--out",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (out / "__main__.py").is_file() and (out / "Pulumi.dev.yaml").is_file()
    assert hashlib.sha256((out / "stack.json").read_bytes()).hexdigest()
