"""The compiled YAML executed by kfp's local SubprocessRunner (use_venv=False), offline, by an
orchestrator whose Python has kfp and the steps' packages but not mlcompile.

Each step gets mlcompile from the pipeline's code bundle (the spec's importer reads it; here the
run's ``mlcompile_code_uri`` names the build's own copy), so a step that passes here runs in any
image that has Python and the step's packages. ``MLCOMPILE_KSERVE_DRY_RUN=1`` writes the
InferenceService instead of applying it (there is no cluster). What is not executed, and why, is
in ``NOT_EXECUTED``.
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
from tests.kubeflow.runner_venv import run_spec

#: Examples the local runner cannot execute, with the reason (checked below, never run).
NOT_EXECUTED = {
    "retrain": "profile_data is a container step; kfp's SubprocessRunner runs only "
    "lightweight Python components (commands naming kfp.dsl.executor_main)",
}


def _compile(name: str, tmp_path: Path, platform: str = "kubeflow") -> Path:
    """The build folder of ``name`` (an example or a pipeline file) for ``platform``."""
    pipeline = build_example(name) if "/" not in name else load(name).build()
    target = "kubeflow-dev" if platform == "kubeflow" else "vertex-dev"
    files = get(platform).compile(pipeline, profile(target)).files
    build = tmp_path / f"{Path(name).stem}-{platform}"
    for rel, data in files.items():
        (build / rel).parent.mkdir(parents=True, exist_ok=True)
        (build / rel).write_bytes(data)
    return build


def _run(python: Path, build: Path, root: Path, **arguments: Any) -> dict[str, Any]:
    """Run the build's pipeline.yaml from an empty folder; its outputs (or its error)."""
    (bundle,) = (build / "code").glob("*.tar.gz")
    cwd = root.parent / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    data, log = run_spec(
        python, build / "pipeline.yaml", root, cwd, mlcompile_code_uri=str(bundle), **arguments
    )
    assert "No module named 'mlcompile'" not in log
    return data


def _task_dir(root: Path, task: str) -> Path:
    (found,) = root.glob(f"*/{task}")
    return found


def _executor_output(root: Path, task: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_task_dir(root, task) / "executor_output.json").read_text())
    return data


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["kubeflow", "vertex"])
def test_minimal(kfp_python: Path, tmp_path: Path, platform: str) -> None:
    """Vertex's compile of a pipeline of plain steps runs the same way: its containers are
    KFP containers with the same bootstrap (custom jobs and GCPC components need Vertex)."""
    result = _run(kfp_python, _compile("minimal", tmp_path, platform), tmp_path / "root", start=4)
    assert result == {"outputs": {"squared": 16}}


@pytest.mark.slow
def test_a_step_importing_project_modules(kfp_python: Path, tmp_path: Path) -> None:
    """The bundle carries the step's file and the project package it imports."""
    build = _compile(str(REPO / "tests" / "cases" / "local_import.py"), tmp_path)
    result = _run(kfp_python, build, tmp_path / "root", value=2.5)
    assert result == {"outputs": {"result": 5.0}}


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["kubeflow", "vertex"])
def test_segments_runtime_fan_out(kfp_python: Path, tmp_path: Path, platform: str) -> None:
    build = _compile("segments", tmp_path, platform)
    result = _run(kfp_python, build, tmp_path / "root", count=4, weight=2.0)
    expected = [round(2.0 * (sum(map(ord, f"segment-{i}")) % 97) / 97, 4) for i in range(4)]
    assert result["outputs"]["mean_score"] == pytest.approx(round(sum(expected) / 4, 4))


@pytest.mark.slow
def test_sweep_fan_in_and_final_step(kfp_python: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = _run(kfp_python, _compile("sweep", tmp_path), root, samples=200)
    assert 0.5 < result["outputs"]["best_score"] <= 1.0
    assert _executor_output(root, "report")["parameterValues"] == {
        "Output": "sweep logistic-c finished"
    }


@pytest.mark.slow
def test_nested_metrics_gate_on_a_dotted_path(kfp_python: Path, tmp_path: Path) -> None:
    """read_metric follows the dotted path into the nested evaluation file, as JsonGet does."""
    root = tmp_path / "root"
    result = _run(kfp_python, _compile("tests/cases/nested_metrics.py", tmp_path), root)
    assert "error" not in result, result
    assert _executor_output(root, "ship")["parameterValues"] == {"Output": "good"}
    assert not list(root.glob("*/ship-2"))


@pytest.mark.slow
def test_imported_data_reaches_the_steps(kfp_python: Path, tmp_path: Path) -> None:
    """kfp's runner executes the importer tasks: one object arrives as a file, a prefix as a
    folder (local paths stand in for the bucket)."""
    data = tmp_path / "data"
    (data / "parts").mkdir(parents=True)
    (data / "rows.csv").write_text("a\n1\n2\n")
    for name in ("one.csv", "two.csv"):
        (data / "parts" / name).write_text("1\n")
    build = _compile("tests/cases/import_data.py", tmp_path)
    result = _run(
        kfp_python,
        build,
        tmp_path / "root",
        rows_uri=str(data / "rows.csv"),
        parts_uri=str(data / "parts"),
    )
    assert result == {"outputs": {"output": 302}}, result


@pytest.mark.slow
@pytest.mark.parametrize("fail_it", [False, True])
def test_the_final_step_gets_the_run_status(
    kfp_python: Path, tmp_path: Path, fail_it: bool
) -> None:
    """kfp's runner fills the TASK_FINAL_STATUS input from the exit handler, and the step side
    reads it as a RunStatus."""
    note = tmp_path / "note.txt"
    build = _compile("tests/cases/final_status.py", tmp_path)
    _run(kfp_python, build, tmp_path / "root", fail_it=fail_it, note=str(note))
    assert note.read_text() == ("FAILED" if fail_it else "SUCCEEDED")


@pytest.fixture(scope="module")
def churn_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _compile("churn", tmp_path_factory.mktemp("churn"))


@pytest.mark.slow
def test_churn_gate_passes_and_registers(
    kfp_python: Path, churn_build: Path, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    result = _run(kfp_python, churn_build, root, rows=400, n_estimators=10, min_auc=0.1)
    assert "error" not in result, result
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
def test_churn_gate_fails_the_run(kfp_python: Path, churn_build: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = _run(kfp_python, churn_build, root, rows=400, n_estimators=10, min_auc=0.999)
    assert "Inner task failed" in result["error"] and "'fail'" in result["error"]
    assert not list(root.glob("*/register-model"))


@pytest.mark.slow
def test_a_tampered_bundle_fails_the_first_step(kfp_python: Path, tmp_path: Path) -> None:
    build = _compile("minimal", tmp_path)
    (bundle,) = (build / "code").glob("*.tar.gz")
    bundle.write_bytes(bundle.read_bytes() + b"appended after compile")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    data, log = run_spec(
        kfp_python, build / "pipeline.yaml", tmp_path / "root", cwd, mlcompile_code_uri=str(bundle)
    )
    assert "Inner task failed" in data["error"] or "FAILURE" in log
    assert f"this step was compiled for {bundle.name.split('.')[0]}" in log


@pytest.mark.parametrize("name", sorted(NOT_EXECUTED))
def test_not_executed_reason_holds(name: str, tmp_path: Path) -> None:
    spec = next(yaml.safe_load_all((_compile(name, tmp_path) / "pipeline.yaml").read_text()))
    foreign = [
        label
        for label, executor in spec["deploymentSpec"]["executors"].items()
        if "container" in executor
        and "kfp.dsl.executor_main" not in json.dumps(executor["container"].get("command", []))
    ]
    assert foreign == ["exec-profile-data"], NOT_EXECUTED[name]
