"""The generated project: its files, pins, determinism, and the `infra` command."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlcompile.errors import ValidationError
from mlcompile.infra.aws import cron_expression
from mlcompile.infra.generator import generate
from tests.conftest import REPO, build_example, profile
from tests.infra.conftest import generatable_profiles


def test_project_files_and_settings() -> None:
    files = generate(build_example("churn"), profile("vertex-dev"))
    project = [
        "Pulumi.dev.yaml",
        "Pulumi.yaml",
        "__main__.py",
        "mlcompile_infra/__init__.py",
        "mlcompile_infra/gcp.py",
        "requirements.txt",
        "stack.json",
    ]
    # churn monitors its endpoint: the pipeline project carries the drift components and the
    # standard-library code its monitoring job runs.
    monitoring = [
        "mlcompile_infra/drift.py",
        "mlcompile_infra/model_monitor.py",
        *(f"mlcompile_infra/monitor_job/{n}.py" for n in ("compare", "job", "sink", "stats")),
    ]
    assert sorted(files) == sorted(
        [f"pipeline/{rel}" for rel in project + monitoring] + [f"platform/{rel}" for rel in project]
    )
    for kind in ("platform", "pipeline"):
        assert b"virtualenv: venv" in files[f"{kind}/Pulumi.yaml"]
        assert b'gcp:project: "mlc-dev-project"' in files[f"{kind}/Pulumi.dev.yaml"]
        pins = files[f"{kind}/requirements.txt"].decode().split()
        assert any(p.startswith("pulumi-gcp==") for p in pins) and any(
            p.startswith("pulumi==") for p in pins
        )
        assert not [p for p in pins if p.startswith("mlcompile")]
        assert b"from mlcompile_infra import gcp" in files[f"{kind}/__main__.py"]
        # Short: the components hold the logic (a monitored endpoint adds its two calls).
        assert len(files[f"{kind}/__main__.py"].splitlines()) < (100 if kind == "platform" else 140)
    assert (
        files["platform/mlcompile_infra/gcp.py"]
        == (REPO / "src/mlcompile/infra/gcp.py").read_bytes()
    )
    needs = json.loads(files["pipeline/stack.json"])["needs"]
    assert needs["secrets"] == ["churn-warehouse-token"]
    assert needs["schedule"]["cron"] == "0 3 * * 1"
    assert b"name: mlc-platform-gcp-mlc-dev-project\n" in files["platform/Pulumi.yaml"]
    assert b"name: mlc-churn-vertex-gcp-mlc-dev-project\n" in files["pipeline/Pulumi.yaml"]


def test_components_import_nothing_of_mlcompile() -> None:
    """Generated projects carry the components; they must not need mlcompile installed."""
    for name in ("aws.py", "gcp.py", "azure.py", "kubernetes.py"):
        source = (REPO / "src/mlcompile/infra" / name).read_text()
        assert "from mlcompile" not in source and "import mlcompile" not in source, name


def test_the_components_endpoint_variant_is_the_runtime_s() -> None:
    from mlcompile.infra.aws import VARIANT
    from mlcompile.runtime import sagemaker

    assert VARIANT == sagemaker.VARIANT


def test_profiles_sharing_a_platform_stack_must_agree(tmp_path: Path) -> None:
    from mlcompile.profiles import Profile

    dev = profile("sagemaker-dev")
    other = Profile.model_validate({**dev.model_dump(), "name": "other", "region": "us-east-1"})
    with pytest.raises(ValidationError) as raised:
        generate(build_example("minimal"), dev, [other])
    (problem,) = raised.value.diagnostics
    assert problem.code == "MLC601" and "region" in problem.message


def test_production_cannot_turn_protection_off(tmp_path: Path) -> None:
    from mlcompile.errors import ProfileError
    from mlcompile.profiles import parse_profile

    text = (REPO / "targets/sagemaker-prod.yaml").read_text() + "protect_stateful: false\n"
    with pytest.raises(ProfileError) as raised:
        parse_profile(text, tmp_path / "p.yaml")
    assert raised.value.diagnostics[0].location is not None
    assert "protect_stateful" in raised.value.diagnostics[0].message


def test_secret_named_by_a_parameter_uses_its_default() -> None:
    files = generate(build_example("retrain"), profile("vertex-dev"))
    assert json.loads(files["pipeline/stack.json"])["needs"]["secrets"] == ["warehouse-token"]


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
    for kind in ("platform", "pipeline"):
        assert (out / kind / "__main__.py").is_file() and (out / kind / "Pulumi.dev.yaml").is_file()
    first = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    again = subprocess.run(run.args, cwd=REPO, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == first
    assert hashlib.sha256((out / "pipeline/stack.json").read_bytes()).hexdigest()
