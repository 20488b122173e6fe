"""The compiled YAML executed by kfp's local SubprocessRunner (use_venv=False), offline.

Steps run this checkout's runtime: ``MLCOMPILE_PREINSTALLED=1`` skips the pip installs (the venv
already has the packages) and ``MLCOMPILE_KSERVE_DRY_RUN=1`` writes the InferenceService instead
of applying it (there is no cluster). What is not executed, and why, is in ``NOT_EXECUTED``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcompile.loader import load
from mlcompile.platforms import get
from tests.conftest import REPO, build_example, profile

#: Examples the local runner cannot execute, with the reason (checked below, never run).
NOT_EXECUTED = {
    "retrain": "profile_data is a container step; kfp's SubprocessRunner runs only "
    "lightweight Python components (commands naming kfp.dsl.executor_main)",
}


def _compile(name: str, tmp_path: Path) -> Path:
    pipeline = build_example(name) if "/" not in name else load(name).build()
    files = get("kubeflow").compile(pipeline, profile("kubeflow-dev")).files
    path = tmp_path / f"{Path(name).stem}.yaml"
    path.write_bytes(files["pipeline.yaml"])
    return path


def _run(path: Path, root: Path, monkeypatch: pytest.MonkeyPatch, **arguments: Any) -> Any:
    from kfp import components, local

    monkeypatch.setenv("MLCOMPILE_PREINSTALLED", "1")
    monkeypatch.setenv("MLCOMPILE_KSERVE_DRY_RUN", "1")
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    return components.load_component_from_file(str(path))(**arguments)


def _task_dir(root: Path, task: str) -> Path:
    (found,) = root.glob(f"*/{task}")
    return found


def _executor_output(root: Path, task: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_task_dir(root, task) / "executor_output.json").read_text())
    return data


@pytest.mark.slow
def test_minimal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    task = _run(_compile("minimal", tmp_path), tmp_path / "root", monkeypatch, start=4)
    assert task.outputs == {"squared": 16}


@pytest.mark.slow
def test_a_step_importing_project_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spec embeds the step's file and the project package it imports."""
    monkeypatch.chdir(tmp_path)  # nothing of the project is importable from here
    path = _compile(str(REPO / "tests" / "cases" / "local_import.py"), tmp_path)
    task = _run(path, tmp_path / "root", monkeypatch, value=2.5)
    assert task.outputs == {"result": 5.0}


@pytest.mark.slow
def test_segments_runtime_fan_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    task = _run(_compile("segments", tmp_path), tmp_path / "root", monkeypatch, count=4, weight=2.0)
    expected = [round(2.0 * (sum(map(ord, f"segment-{i}")) % 97) / 97, 4) for i in range(4)]
    assert task.outputs["mean_score"] == pytest.approx(round(sum(expected) / 4, 4))


@pytest.mark.slow
def test_sweep_fan_in_and_final_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    task = _run(_compile("sweep", tmp_path), root, monkeypatch, samples=200)
    assert 0.5 < task.outputs["best_score"] <= 1.0
    assert _executor_output(root, "report")["parameterValues"] == {
        "Output": "sweep logistic-c finished"
    }


@pytest.fixture(scope="module")
def churn_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _compile("churn", tmp_path_factory.mktemp("churn"))


@pytest.mark.slow
def test_churn_gate_passes_and_registers(
    churn_yaml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    _run(churn_yaml, root, monkeypatch, rows=400, n_estimators=10, min_auc=0.1)
    metrics = _executor_output(root, "evaluate")["artifacts"]["metrics"]["artifacts"][0]
    assert 0.5 < metrics["metadata"]["auc"] <= 1.0
    registered = _executor_output(root, "register-model")["artifacts"]["registered_model"]
    entry = registered["artifacts"][0]
    version = entry["metadata"]["version"]
    assert entry["uri"] == f"{root}/models/churn/{version}"
    assert (Path(entry["uri"]) / "model.pkl").is_file()
    assert entry["metadata"]["metrics"]["auc"] == metrics["metadata"]["auc"]
    service = json.loads((_task_dir(root, "deploy-model") / "endpoint").read_text())
    assert service["metadata"]["name"] == "mlc-dev-kubeflow-churn"
    assert service["spec"]["predictor"]["model"]["storageUri"] == entry["uri"]
    predictions = (_task_dir(root, "batch-predict") / "predictions").read_text().splitlines()
    assert predictions[0] == "prediction" and len(predictions) == 101
    assert not list(root.glob("*/fail"))


@pytest.mark.slow
def test_churn_gate_fails_the_run(
    churn_yaml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match=r"Inner task failed: .*'fail'"):
        _run(churn_yaml, root, monkeypatch, rows=400, n_estimators=10, min_auc=0.999)
    assert not list(root.glob("*/register-model"))


@pytest.mark.parametrize("name", sorted(NOT_EXECUTED))
def test_not_executed_reason_holds(name: str, tmp_path: Path) -> None:
    spec = next(yaml.safe_load_all(_compile(name, tmp_path).read_text()))
    foreign = [
        label
        for label, executor in spec["deploymentSpec"]["executors"].items()
        if "kfp.dsl.executor_main" not in json.dumps(executor["container"].get("command", []))
    ]
    assert foreign == ["exec-profile-data"], NOT_EXECUTED[name]
