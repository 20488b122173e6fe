"""A training image that keeps its own entrypoint runs here through its local stand-in, and sees
what each platform gives it: on SageMaker the job's hyperparameters.json and
inputdataconfig.json (with the channel's content type), on Vertex AIP_MODEL_DIR naming the
model output; without a stand-in the step fails saying how to give one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.emulate.test_cases_agree import BYO_TRAINER, PARAMS, STAND_IN
from tests.emulate.test_kfp_ir import _cli

pytestmark = pytest.mark.slow
CASE = "tests/cases/training_inputs.py"


def _run(tmp_path: Path, target: str) -> dict[str, Any]:
    params = PARAMS["training_inputs"](tmp_path, target or "embedded")
    args = [arg for name, value in params.items() for arg in ("-p", f"{name}={value}")]
    store = tmp_path / (target or "embedded")
    return _cli("run", CASE, "--store", str(store), *(["-t", target] if target else []), *args)


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seen = tmp_path / "seen.json"
    monkeypatch.setenv(
        "MLCOMPILE_LOCAL_ENTRYPOINTS", json.dumps({BYO_TRAINER: ["python3", str(STAND_IN)]})
    )
    monkeypatch.setenv("BYO_TRAIN_RECORD", str(seen))
    return seen


def test_a_sagemaker_training_image_reads_its_hyperparameters_and_channels(
    tmp_path: Path, record: Path
) -> None:
    result = _run(tmp_path, "sagemaker-dev")
    assert result["status"] == "succeeded", result
    seen = json.loads(record.read_text())
    # HyperParameters is a map of strings (the parameter's value as text).
    assert seen["hyperparameters"] == {"epochs": "4"}
    channel = seen["inputdataconfig"]["data"]
    assert channel["ContentType"] == "text/csv"
    assert channel["TrainingInputMode"] == "File"
    # The job's arguments reach the image, /opt/ml mapped onto the job's folder.
    assert seen["argv"][seen["argv"].index("--epochs") + 1] == "4"
    assert seen["model"].endswith("/model/model") and "/opt/ml" not in seen["model"]


def test_a_vertex_custom_job_tells_the_image_its_model_directory(
    tmp_path: Path, record: Path
) -> None:
    result = _run(tmp_path, "vertex-dev")
    assert result["status"] == "succeeded", result
    seen = json.loads(record.read_text())
    assert seen["AIP_MODEL_DIR"] and seen["AIP_MODEL_DIR"] == seen["model"]
    assert seen["hyperparameters"] is None  # no SageMaker contract on Vertex


@pytest.mark.parametrize("target", ["", "sagemaker-dev"])
def test_an_image_entrypoint_without_a_stand_in_fails_saying_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    monkeypatch.delenv("MLCOMPILE_LOCAL_ENTRYPOINTS", raising=False)
    result = _run(tmp_path, target)
    assert result["status"] == "failed"
    (byo,) = [s for s in result["steps"] if s["name"] == "byo_fit"]
    assert byo["status"] == "failed"
    assert "MLCOMPILE_LOCAL_ENTRYPOINTS" in byo["message"] and BYO_TRAINER in byo["message"]
