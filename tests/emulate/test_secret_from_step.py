"""A secret named by an earlier step's output: on Kubeflow (Kubernetes secrets) the compiled
secretAsEnv reads the name from the producing task, the task waits for it, and the compiled spec
runs with the right value; the embedded run agrees; SageMaker and Vertex refuse it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlcompile.errors import ValidationError
from mlcompile.loader import load
from mlcompile.platforms import get
from tests.conftest import REPO, profile

CASE = REPO / "tests" / "cases" / "kubeflow_only" / "secret_from_step.py"
SECRET = {"MLCOMPILE_SECRET_DB_EU": json.dumps({"password": "s3cr3t-value", "user": "ml"})}


def _run(*args: str, store: Path) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcompile",
            "run",
            str(CASE),
            *args,
            "--store",
            str(store),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, **SECRET},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_kubeflow_reads_the_name_from_the_producing_task() -> None:
    files = get("kubeflow").compile(load(str(CASE)).build(), profile("kubeflow-dev")).files
    spec, platform = yaml.safe_load_all(files["pipeline.yaml"])
    assert "pick-database" in spec["root"]["dag"]["tasks"]["connect"]["dependentTasks"]
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors["exec-connect"]["secretAsEnv"] == [
        {
            "keyToEnv": [{"envVar": "DB_PASSWORD", "secretKey": "password"}],
            "optional": False,
            "secretNameParameter": {
                "taskOutputParameter": {
                    "outputParameterKey": "Output",
                    "producerTask": "pick-database",
                }
            },
        }
    ]
    assert "s3cr3t" not in files["pipeline.yaml"].decode()


@pytest.mark.slow
def test_the_compiled_spec_and_the_embedded_run_read_the_same_key(tmp_path: Path) -> None:
    embedded = _run(store=tmp_path / "embedded")
    emulated = _run("-t", "kubeflow-dev", store=tmp_path / "kubeflow")
    assert embedded["outputs"] == emulated["outputs"] == {"output": len("s3cr3t-value")}


@pytest.mark.parametrize("target", ["sagemaker-dev", "vertex-dev", "kubeflow-azure"])
def test_platforms_that_grant_secrets_by_name_refuse_it(target: str) -> None:
    platform = get(profile(target).platform)
    problems = platform.check(load(str(CASE)).build(), profile(target))
    refused = [d for d in problems if d.code == "MLC401" and d.severity == "error"]
    assert refused and all("secret" in d.message for d in refused), problems
    assert refused[0].location is not None and refused[0].location.line == 26
    with pytest.raises(ValidationError):
        platform.compile(load(str(CASE)).build(), profile(target))
