"""Feature cases (tests/cases) executed from each platform's compiled files agree with the
embedded run: the same steps run, the same are skipped, the run ends the same way."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.emulate.test_kfp_ir import _cli

#: Case -> the steps that must run and the steps a condition must skip (by the embedded run's names).
CASES = {
    "nested_metrics": ({"evaluate", "ship"}, {"ship_2"}),
    "retry_own_failure": ({"flaky"}, set()),
    "import_data": ({"count_rows", "count_files", "total"}, set()),
    "container_outputs": ({"measure", "describe"}, set()),
    "literal_fan_in": ({"prepare", "pick", "register_model", "batch_predict"}, {"fail"}),
    "local_import": ({"scaled"}, set()),
    "env_parameter": ({"configured"}, set()),
    "step_options": ({"warm_up", "report"}, set()),
    "nested_control": ({"scale[0]", "flag[2]", "total"}, set()),
    "training_inputs": ({"prepare", "fit", "byo_fit", "score", "register_model"}, set()),
    "model_frameworks": ({"fit", "register_model_2", "deploy_model", "batch_predict_2"}, set()),
    "model_lightgbm": ({"fit", "register_model_2", "deploy_model", "batch_predict"}, set()),
    "serving_parameters": ({"fit", "register_model", "deploy_model"}, set()),
    "platform_parameters": ({"count_rows"}, set()),
    "image_parameter": ({"where", "fit", "said"}, set()),
    "model_pytorch": ({"prepare", "fit", "register_model", "batch_predict"}, set()),
}
#: Cases a platform refuses at compile time (MLC401: SageMaker has no loop over a run-time list).
REFUSED = {
    "nested_control": {"sagemaker-dev"},
    # Neither has an image serving LightGBM (the support table's LightGBM row).
    "model_lightgbm": {"sagemaker-dev", "vertex-dev"},
    # Nor one serving TorchScript as a step writes it (the support table's PyTorch row).
    "model_pytorch": {"sagemaker-dev", "vertex-dev"},
}


def _import_data(folder: Path, run: str) -> dict[str, str]:
    """The same three rows and two files: beside the test locally, in the store's stand-in for
    the platform's bucket when the compiled spec runs."""
    bucket = folder / run / "buckets" / "data"
    (bucket / "parts").mkdir(parents=True)
    (bucket / "rows.csv").write_text("a\n1\n2\n")
    (bucket / "parts" / "one.csv").write_text("1\n")
    (bucket / "parts" / "two.csv").write_text("2\n")
    if run == "embedded":
        return {"rows_uri": str(bucket / "rows.csv"), "parts_uri": str(bucket / "parts")}
    scheme = "gs" if run.startswith("vertex") else "s3"
    return {"rows_uri": f"{scheme}://data/rows.csv", "parts_uri": f"{scheme}://data/parts/"}


def _extra_rows(folder: Path, run: str) -> dict[str, str]:
    """Two more rows for the training case's imported channel."""
    bucket = folder / run / "buckets" / "data"
    bucket.mkdir(parents=True)
    (bucket / "extra.csv").write_text("10,1\n11,0\n")
    if run == "embedded":
        return {"extra_uri": str(bucket / "extra.csv")}
    return {"extra_uri": f"{'gs' if run.startswith('vertex') else 's3'}://data/extra.csv"}


def _rows_and_machine(folder: Path, run: str) -> dict[str, str]:
    """The imported rows, and a SageMaker instance type and env value a run chooses."""
    uri = _import_data(folder, run)["rows_uri"]
    return {"rows_uri": uri, "instance": "ml.m5.large", "mode": "quick"}


#: Parameters a case needs, made from the test's own folder and the run's name.
PARAMS: dict[str, Callable[[Path, str], dict[str, str]]] = {
    "retry_own_failure": lambda folder, run: {"marker": str(folder / f"{run}.marker")},
    "import_data": _import_data,
    "training_inputs": _extra_rows,
    "platform_parameters": _rows_and_machine,
}

#: The training image of the training case keeps its own entrypoint: a local stand-in runs it.
BYO_TRAINER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/byo-trainer:1.0"
STAND_IN = Path(__file__).parents[1] / "cases" / "entrypoints" / "byo_train.py"
ENV = {
    "training_inputs": {
        "MLCOMPILE_LOCAL_ENTRYPOINTS": json.dumps({BYO_TRAINER: ["python3", str(STAND_IN)]})
    }
}

#: The outputs a case computes, where the case says what they must be.
EXPECTED = {
    "import_data": {"output": 302},
    "platform_parameters": {"output": 3},
    "container_outputs": {"output": "big:42"},
    "local_import": {"result": 3.0},
    "env_parameter": {"said": "env: GREETING=hello TIMES=2 RATE=0.5 VERBOSE=true FIXED=yes"},
    "nested_control": {"total": 12.0},
    # 0.25 * depth 3 + 2 classes + 8 rows + len("y"); the image saw 6 rows for 4 epochs.
    "training_inputs": {"fit": 11.75, "byo": 24},
}

TARGETS = ["kubeflow-dev", "sagemaker-dev", "vertex-dev"]

#: Cases whose outputs say where they ran, so they differ by design: the image case prints the
#: interpreter its container step ran on (here, on the host: the embedded run's python3 on
#: PATH, an emulator's own); tests/images checks it names the run's image where one runs.
WHERE_THEY_RAN = {"image_parameter"}

#: Libraries a case's steps import that are not mlcompile's dependencies: torch is large, and
#: CI installs its CPU build (see .ci/run).
NEEDS = {"model_pytorch": "torch"}


def _require(module: str) -> None:
    """Skip without ``module``, except in CI, where a missing library is a failure."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{module} is not installed (see .ci/run)")
        pytest.skip(f"{module} is not installed")


def _steps(result: dict[str, object]) -> dict[str, str]:
    """Statuses by Python name; a Vertex built-in's sub-DAG (`register-model/model-upload`)
    also counts under the built-in's name."""
    steps = result["steps"]
    assert isinstance(steps, list)
    found = {str(s["name"]).replace("-", "_"): str(s["status"]) for s in steps}
    for name, status in list(found.items()):
        parent = name.split("/", 1)[0]
        if parent != name and found.get(parent) != "done":
            found[parent] = status
    return found


def _unfinished(result: dict[str, object]) -> list[tuple[object, object, object]]:
    """What a failed run says about each step that did not finish, for the assertion."""
    steps = result["steps"]
    assert isinstance(steps, list)
    return [(s["name"], s["status"], s["message"]) for s in steps if s["status"] != "done"]


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_platform_runs_the_case_as_the_embedded_run_does(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"tests/cases/{case}.py"
    ran, skipped = CASES[case]
    if case in NEEDS:
        _require(NEEDS[case])
    for name, value in ENV.get(case, {}).items():
        monkeypatch.setenv(name, value)

    def params(run: str) -> list[str]:
        made = PARAMS[case](tmp_path, run) if case in PARAMS else {}
        return [arg for name, value in made.items() for arg in ("-p", f"{name}={value}")]

    embedded = _cli("run", path, "--store", str(tmp_path / "embedded"), *params("embedded"))
    assert embedded["status"] == "succeeded", embedded
    for target in [t for t in TARGETS if t not in REFUSED.get(case, set())]:
        result = _cli("run", path, "-t", target, "--store", str(tmp_path / target), *params(target))
        assert result["status"] == embedded["status"], (target, _unfinished(result))
        steps = _steps(result)
        assert {s for s in ran if steps.get(s) == "done"} == ran, (target, steps)
        if case in EXPECTED:
            assert embedded["outputs"] == EXPECTED[case]
        assert {s for s in skipped if steps.get(s) == "skipped"} == skipped, (target, steps)
        if case not in WHERE_THEY_RAN:
            assert result["outputs"] == embedded["outputs"], target


@pytest.mark.slow
@pytest.mark.parametrize("fail_it", [False, True])
def test_the_final_step_reads_how_the_run_went(fail_it: bool, tmp_path: Path) -> None:
    """Embedded, Kubeflow and Vertex give the final step the same RunStatus (SageMaker has no
    exit handler: the support table refuses final())."""
    path = "tests/cases/final_status.py"
    expected = "FAILED" if fail_it else "SUCCEEDED"
    for target in ("", "kubeflow-dev", "vertex-dev"):
        run = target or "embedded"
        note = tmp_path / f"{run}.txt"
        args = ["run", path, "--store", str(tmp_path / run), "-p", f"note={note}"]
        args += ["-p", f"fail_it={str(fail_it).lower()}"]
        result = _cli(*args, *(["-t", target] if target else []))
        assert result["status"] == ("failed" if fail_it else "succeeded"), (run, result)
        assert note.read_text() == expected, run


@pytest.mark.slow
@pytest.mark.parametrize("fail_it", [False, True])
def test_a_nested_pipelines_final_step_runs_when_that_pipeline_ends(
    fail_it: bool, tmp_path: Path
) -> None:
    """final() inside a nested pipeline runs after that pipeline's steps, failed or not, before
    the outer final step, with the same state in the embedded run and on Kubeflow and Vertex."""
    state = "FAILED" if fail_it else "SUCCEEDED"
    for target in ("", "kubeflow-dev", "vertex-dev"):
        run = target or "embedded"
        note = tmp_path / f"{run}.txt"
        args = ["run", "tests/cases/nested_final.py", "--store", str(tmp_path / run)]
        args += ["-p", f"note={note}", "-p", f"fail_it={str(fail_it).lower()}"]
        result = _cli(*args, *(["-t", target] if target else []))
        assert result["status"] == ("failed" if fail_it else "succeeded"), (run, result)
        assert note.read_text() == f"stage {state}\nouter {state}\n", run
