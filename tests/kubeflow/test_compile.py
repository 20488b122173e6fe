"""Compiling to Kubeflow: golden files, strict protobuf parses, kfp's loader, refusals,
determinism, and no kfp import on the CLI's light paths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlcompile.loader import load
from mlcompile.platforms import get
from tests.conftest import GOLDEN_SOURCES, REPO, assert_golden, build_example, golden_files, profile
from tests.kubeflow.kfp_checks import strict_parse

REFUSED = REPO / "tests" / "kubeflow" / "refused"
GOLDEN = REPO / "tests" / "golden" / "kubeflow"
SOURCES = GOLDEN_SOURCES


def _compile(path: Path) -> dict[str, bytes]:
    return get("kubeflow").compile(load(str(path)).build(), profile("kubeflow-dev")).files


@pytest.fixture(scope="module")
def compiled() -> dict[str, dict[str, bytes]]:
    return {name: _compile(path) for name, path in SOURCES.items()}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_golden(name: str, compiled: dict[str, dict[str, bytes]]) -> None:
    for rel, data in sorted(golden_files(compiled[name]).items()):
        assert_golden(GOLDEN / name / rel, data)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_strict_parse_and_kfp_loader(
    name: str, compiled: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    from kfp.components import load_component_from_file

    path = tmp_path / "pipeline.yaml"
    path.write_bytes(compiled[name]["pipeline.yaml"])
    docs = strict_parse(path)
    assert len(docs) == 2, "the Kubernetes platform document follows the spec"
    load_component_from_file(str(path))


def test_ir_hash_in_every_pod(compiled: dict[str, dict[str, bytes]]) -> None:
    pipeline = build_example("churn")
    from mlcompile.ir.canonical import content_hash

    docs = list(yaml.safe_load_all(compiled["example-churn"]["pipeline.yaml"]))
    executors = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    containers = {k for k, v in docs[0]["deploymentSpec"]["executors"].items() if "container" in v}
    assert set(executors) == containers  # the code bundle's importer runs no step pod
    for config in executors.values():
        assert config["podMetadata"]["annotations"]["mlcompile.io/ir-hash"] == content_hash(
            pipeline
        )


def test_churn_mapping(compiled: dict[str, dict[str, bytes]]) -> None:
    spec, platform = yaml.safe_load_all(compiled["example-churn"]["pipeline.yaml"])
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors["exec-train"]["activeDeadlineSeconds"] == "1800"
    assert executors["exec-evaluate"]["secretAsEnv"] == [
        {
            "keyToEnv": [{"envVar": "WAREHOUSE_TOKEN", "secretKey": "value"}],
            "optional": False,
            "secretName": "churn-warehouse-token",
            "secretNameParameter": {"runtimeValue": {"constant": "churn-warehouse-token"}},
        }
    ]
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["make-data"]["retryPolicy"]["backoffDuration"] == "10s"
    branches = spec["components"]["comp-condition-1-branches"]["dag"]["tasks"]
    assert "evaluate-auc-metric" in branches, "the metric is read into a parameter first"
    then = branches["condition-1-then"]["triggerPolicy"]["condition"]
    assert then == (
        "inputs.parameter_values['pipelinechannel--evaluate-auc-metric-Output'] >= "
        "inputs.parameter_values['pipelinechannel--min_auc']"
    )
    assert branches["condition-1-else"]["triggerPolicy"]["condition"] == f"!({then})"
    schedule = yaml.safe_load(compiled["example-churn"]["schedule.yaml"])
    assert schedule["recurring_run"]["trigger"]["cron_schedule"]["cron"] == "0 0 3 * * 1"
    assert spec["defaultPipelineRoot"] == "s3://mlc-dev-artifacts-111122223333/pipeline-root"


def test_retrain_mapping(compiled: dict[str, dict[str, bytes]]) -> None:
    spec, platform = yaml.safe_load_all(compiled["example-retrain"]["pipeline.yaml"])
    secret = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]
    assert secret["secretAsEnv"][0]["secretNameParameter"] == {
        "componentInputParameter": "warehouse_secret"
    }
    assert "dag" in spec["components"]["comp-prepare"], "a nested pipeline is a graph component"
    oneof = spec["components"]["comp-condition-1-branches"]["dag"]["outputs"]["parameters"]
    assert "valueFromOneof" in next(iter(oneof.values()))
    container = spec["deploymentSpec"]["executors"]["exec-profile-data"]["container"]
    assert container["args"] == [
        "{{$.inputs.artifacts['data'].path}}",
        "{{$.outputs.artifacts['summary'].path}}",
    ]


def test_sweep_exit_handler(compiled: dict[str, dict[str, bytes]]) -> None:
    spec = yaml.safe_load_all(compiled["example-sweep"]["pipeline.yaml"]).__next__()
    report = spec["root"]["dag"]["tasks"]["report"]
    assert report["triggerPolicy"] == {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
    # It also waits for the code bundle's importer, which runs before everything else.
    assert report["dependentTasks"] == ["exit-handler", "import-code"]
    assert report["cachingOptions"] == {}
    loop = spec["components"]["comp-exit-handler"]["dag"]["tasks"]["for-loop-1"]
    assert loop["iteratorPolicy"] == {"parallelismLimit": 2}


REFUSALS = [
    ("disk_request.py", "kubeflow-dev", "MLC401", 15),
    ("unknown_option.py", "kubeflow-dev", "MLC205", 15),
    ("secret_parameter.py", str(REPO / "tests" / "kubeflow" / "aws-secrets.yaml"), "MLC401", 15),
]


@pytest.mark.parametrize(("file", "target", "code", "line"), REFUSALS)
def test_refusal_diagnostics(file: str, target: str, code: str, line: int, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcompile.cli.main",
            "compile",
            str(REFUSED / file),
            "--target",
            target,
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    diagnostics = json.loads(result.stdout)["diagnostics"]
    assert [(d["code"], d["file"], d["line"]) for d in diagnostics] == [
        (code, f"tests/kubeflow/refused/{file}", line)
    ]
    assert not (tmp_path / "out").exists()


def test_every_feature_has_a_stance() -> None:
    from mlcompile.ir.features import FEATURES

    assert set(get("kubeflow").support) == set(FEATURES)
