"""Parameters choosing how a model is served reach the platform's own calls when the compiled
spec runs: the registration's serving image and the endpoint's machine type, with values a run
gives (tests/cases/serving_parameters.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.emulate.test_kfp_ir import _cli

CASE = "tests/cases/serving_parameters.py"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve-sklearn:2.0"


def _messages(result: dict[str, Any]) -> dict[str, str]:
    assert result["status"] == "succeeded", result
    return {str(s["name"]): str(s["message"]) for s in result["steps"]}


def _artifact(store: Path, marker: str) -> Any:
    """The one stored artifact file whose text holds ``marker``, parsed."""
    found = [
        p
        for p in (store / "artifacts").rglob("*")
        if p.is_file() and marker in p.read_text("latin-1")
    ]
    assert len(found) == 1, found
    return json.loads(found[0].read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("instance", "volume_key"), [("ml.m5.large", True), ("ml.m5d.large", False)]
)
def test_sagemaker_serves_on_the_runs_instance_with_its_image(
    instance: str, volume_key: bool, tmp_path: Path
) -> None:
    """The deploy job learns the instance type when the run starts, and gives the volume the
    stack's key unless the type's local NVMe storage is encrypted by the hardware."""
    store = tmp_path / "store"
    params = ["-p", f"serving_image={IMAGE}", "-p", f"endpoint_instance={instance}"]
    result = _cli("run", CASE, "-t", "sagemaker-dev", "--store", str(store), *params)
    assert _messages(result)["register_model"] == f"registered mlc-dev-tree v1, served by {IMAGE}"
    served = _artifact(store, '"instance_type"')
    assert served["instance_type"] == instance
    assert bool(served["volume_key"]) is volume_key


@pytest.mark.slow
def test_vertex_uploads_the_runs_image_and_deploys_on_its_machine(tmp_path: Path) -> None:
    params = ["-p", f"serving_image={IMAGE}", "-p", "endpoint_machine=n1-standard-8"]
    result = _cli("run", CASE, "-t", "vertex-dev", "--store", str(tmp_path / "s"), *params)
    messages = _messages(result)
    assert messages["register-model/model-upload"].endswith(f"served by {IMAGE}")
    assert messages["deploy-model/model-deploy"].endswith("on n1-standard-8")


@pytest.mark.slow
def test_kubeflow_serves_the_runs_image(tmp_path: Path) -> None:
    store = tmp_path / "store"
    params = ["-p", f"serving_image={IMAGE}"]
    _messages(_cli("run", CASE, "-t", "kubeflow-dev", "--store", str(store), *params))
    service = _artifact(store, '"InferenceService"')
    (container,) = service["spec"]["predictor"]["containers"]
    assert container["image"] == IMAGE
