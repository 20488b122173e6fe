"""The kfp runtime adapter against a hand-written executor input, as KFP's launcher sends it."""

from __future__ import annotations

import json
from pathlib import Path

from mlcompile.runtime import kfp

STEP = """
from mlcompile import Input, Output, Dataset, Metrics

def count(data: Input[Dataset], n: int, label: str, summary: Output[Metrics]) -> int:
    rows = open(data.path).read().splitlines()
    summary.log_metric("rows", len(rows))
    return len(rows) * n
"""


def test_executor_input_contract(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "steps.py").write_text(STEP)
    (tmp_path / "data.csv").write_text("a\nb\nc\n")
    executor_input = {
        "inputs": {
            "parameterValues": {"n": 2.0, "label__1": 7.0},
            "artifacts": {
                "data": {"artifacts": [{"name": "data", "uri": str(tmp_path / "data.csv")}]}
            },
        },
        "outputs": {
            "parameters": {"Output": {"outputFile": str(tmp_path / "out" / "Output")}},
            "artifacts": {
                "summary": {
                    "artifacts": [{"name": "summary", "uri": str(tmp_path / "out" / "summary")}]
                }
            },
            "outputFile": str(tmp_path / "out" / "executor_output.json"),
        },
    }
    code = kfp.main(
        [
            "--executor_input",
            json.dumps(executor_input),
            "--function",
            "steps.py:count",
            "--code-root",
            str(tmp_path / "code"),
            "--templates",
            json.dumps({"label": ["run ", {"input": "label__1"}]}),
        ]
    )
    assert code == 0
    output = json.loads((tmp_path / "out" / "executor_output.json").read_text())
    assert output["parameterValues"] == {"Output": 6}
    (summary,) = output["artifacts"]["summary"]["artifacts"]
    assert summary["metadata"] == {"rows": 3.0}
    assert json.loads(Path(summary["uri"]).read_text()) == {"rows": 3.0}


def test_uri_mapping() -> None:
    assert kfp.local_path("gs://b/x") == "/gcs/b/x"
    assert kfp.local_path("s3://b/x") == "/s3/b/x"
    assert kfp.local_path("/tmp/x") == "/tmp/x"


RENAMED = """
from typing import NamedTuple
from mlcompile import Input, Output, Dataset

class Result(NamedTuple):
    gcp_resources: str
    size: int

def train(labels: str, project: Input[Dataset], location: Output[Dataset]) -> Result:
    open(location.path, "w").write(labels)
    return Result(labels + "!", len(open(project.path).read()))
"""


def test_renamed_inputs_and_outputs_reach_the_function_by_its_own_names(tmp_path: Path) -> None:
    """A Vertex custom job's interface holds the launcher's labels (a STRUCT) beside the step's
    (step_labels); the function gets its own, and its outputs go under the renamed keys."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "renamed.py").write_text(RENAMED)
    (tmp_path / "data.csv").write_text("abcd")
    out = tmp_path / "out"
    executor_input = {
        "inputs": {
            "parameterValues": {"labels": {"team": "ml"}, "step_labels": "mine"},
            "artifacts": {
                "step_project": {"artifacts": [{"name": "p", "uri": str(tmp_path / "data.csv")}]}
            },
        },
        "outputs": {
            "parameters": {
                "gcp_resources": {"outputFile": str(out / "gcp_resources")},
                "step_gcp_resources": {"outputFile": str(out / "step_gcp_resources")},
                "size": {"outputFile": str(out / "size")},
            },
            "artifacts": {
                "step_location": {"artifacts": [{"name": "l", "uri": str(out / "location")}]}
            },
            "outputFile": str(out / "executor_output.json"),
        },
    }
    code = kfp.main(
        [
            "--executor_input",
            json.dumps(executor_input),
            "--function",
            "renamed.py:train",
            "--code-root",
            str(tmp_path / "code"),
            "--input-names",
            json.dumps({"step_labels": "labels", "step_project": "project"}),
            "--output-names",
            json.dumps({"step_gcp_resources": "gcp_resources", "step_location": "location"}),
        ]
    )
    assert code == 0
    output = json.loads((out / "executor_output.json").read_text())
    assert output["parameterValues"] == {"step_gcp_resources": "mine!", "size": 4}
    assert list(output["artifacts"]) == ["step_location"]
    assert (out / "location").read_text() == "mine"


def test_serving_limits_raise_the_inference_services_limits() -> None:
    from mlcompile.dsl.artifacts import RegisteredModel
    from mlcompile.runtime.ops.kubeflow import inference_service

    model = RegisteredModel("/m", "s3://b/m", {"framework": "sklearn"})
    same = inference_service(model, "e", "ns", {"cpu": "1"}, (1, 1))
    assert same["spec"]["predictor"]["model"]["resources"] == {
        "limits": {"cpu": "1"},
        "requests": {"cpu": "1"},
    }
    raised = inference_service(
        model, "e", "ns", {"cpu": "1", "memory": "1Gi"}, (1, 1), limits={"cpu": "4"}
    )
    assert raised["spec"]["predictor"]["model"]["resources"] == {
        "limits": {"cpu": "4", "memory": "1Gi"},
        "requests": {"cpu": "1", "memory": "1Gi"},
    }
