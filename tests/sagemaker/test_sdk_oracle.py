"""The SageMaker SDK as an oracle: its definition of the minimal example has the same steps,
types, parameters, property files and dependencies as ours; where pipeline parameters drive a
job (instance type and count, an imported input's URI, an environment variable, images), for
training jobs and for a container's output values, both write the same expressions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO
from tests.sagemaker.helpers import compiled

pytestmark = pytest.mark.slow

OFFLINE = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "SAGEMAKER_VALIDATE_ROLE": "false",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def _refs(value: Any) -> set[str]:
    """Steps a value reads through Get expressions."""
    if isinstance(value, dict):
        found = set()
        if isinstance(value.get("Get"), str) and value["Get"].startswith("Steps."):
            found.add(value["Get"].split(".")[1])
        for v in value.values():
            found |= _refs(v)
        return found
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


def _shape(definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "parameters": sorted(
            (p["Name"], p["Type"], p.get("DefaultValue")) for p in definition["Parameters"]
        ),
        "steps": {
            s["Name"]: {
                "type": s["Type"],
                "depends": sorted(_refs(s["Arguments"]) | set(s.get("DependsOn", []))),
                "property_files": sorted(
                    (p["PropertyFileName"], p["OutputName"], p["FilePath"])
                    for p in s.get("PropertyFiles", [])
                ),
            }
            for s in definition["Steps"]
        },
    }


def _sdk(script: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(REPO / "tests" / "sagemaker" / script)],
        env={**os.environ, **OFFLINE},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    definition: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return definition


def test_minimal_matches_the_sdk() -> None:
    sdk = _sdk("sdk_oracle.py")
    ours = json.loads(compiled("example-minimal")[1]["pipeline.json"])
    assert _shape(ours) == _shape(sdk)
    assert sdk["Version"] == ours["Version"]


def test_parameters_driving_a_job_match_the_sdk() -> None:
    sdk = _sdk("sdk_oracle_parameters.py")
    ours = json.loads(compiled("case-platform_parameters")[1]["pipeline.json"])
    assert _shape(ours) == _shape(sdk)
    (theirs,) = sdk["Steps"]
    (mine,) = ours["Steps"]

    def resources(step: dict[str, Any]) -> Any:
        return step["Arguments"]["ProcessingResources"]["ClusterConfig"]["InstanceType"]

    def data_uri(step: dict[str, Any]) -> Any:
        inputs = step["Arguments"]["ProcessingInputs"]
        return next(i["S3Input"]["S3Uri"] for i in inputs if i["InputName"] == "data")

    assert resources(mine) == resources(theirs) == {"Get": "Parameters.instance"}
    assert data_uri(mine) == data_uri(theirs) == {"Get": "Parameters.rows_uri"}
    mode = {"Get": "Parameters.mode"}
    assert mine["Arguments"]["Environment"]["MODE"] == theirs["Arguments"]["Environment"]["MODE"]
    assert mine["Arguments"]["Environment"]["MODE"] == mode


def _as_text(value: Any) -> Any:
    """A hyperparameter as the string it is at run time: our ``Std:Join`` of one ``Get`` (what
    the SDK's 2.x ``to_string()`` wrote) and the 3.x ModelTrainer's bare ``Get`` are one value."""
    if isinstance(value, dict) and "Std:Join" in value:
        join = value["Std:Join"]
        if join.get("On") == "" and len(join.get("Values", [])) == 1:
            return join["Values"][0]
    return value


def _training(step: dict[str, Any]) -> dict[str, Any]:
    """What item 4 of the ports is about, field by field: the hyperparameters, each data
    channel's content type and source, the image, and whether the image keeps its entrypoint."""
    args = step["Arguments"]
    algorithm = args["AlgorithmSpecification"]
    return {
        "hyperparameters": {k: _as_text(v) for k, v in args.get("HyperParameters", {}).items()},
        "channels": {
            c["ChannelName"]: (c.get("ContentType"), c["InputMode"])
            for c in args.get("InputDataConfig", [])
            if c["ChannelName"] != "mlc-code"  # our code bundle: the SDK's would be its source
        },
        "image": algorithm["TrainingImage"],
        "input_mode": algorithm["TrainingInputMode"],
        "instance": args["ResourceConfig"]["InstanceType"],
    }


def test_training_inputs_match_the_sdk() -> None:
    """Item 4 of the ports: hyperparameters, channel content types, a bring-your-own image's
    own entrypoint and a model package's instance lists, as the SDK writes them."""
    printed = _sdk("sdk_oracle_training.py")
    sdk = printed["definition"]
    ours = json.loads(compiled("case-training_inputs")[1]["pipeline.json"])
    assert _shape(ours)["parameters"] == _shape(sdk)["parameters"]
    theirs = {s["Name"]: s for s in sdk["Steps"]}
    mine = {s["Name"]: s for s in ours["Steps"]}
    for name in ("fit", "byo_fit"):
        assert _training(mine[name]) == _training(theirs[name]), name

    # A parameter-given channel reads the same expression.
    def uri(step: dict[str, Any], channel: str) -> Any:
        channels = step["Arguments"]["InputDataConfig"]
        found = next(c for c in channels if c["ChannelName"] == channel)
        return found["DataSource"]["S3DataSource"]["S3Uri"]

    assert (
        uri(mine["fit"], "extra") == uri(theirs["fit"], "extra") == {"Get": "Parameters.extra_uri"}
    )
    # The bring-your-own image runs its own entrypoint in both: no ContainerEntrypoint.
    for definition in (mine, theirs):
        assert (
            "ContainerEntrypoint"
            not in definition["byo_fit"]["Arguments"]["AlgorithmSpecification"]
        )
    # The model package lists the same instance types, in the same order, and content types.
    (register,) = [s for s in ours["Steps"] if s["Type"] == "RegisterModel"]
    spec, theirs_spec = register["Arguments"]["InferenceSpecification"], printed["inference"]
    for key in (
        "SupportedRealtimeInferenceInstanceTypes",
        "SupportedTransformInstanceTypes",
        "SupportedContentTypes",
        "SupportedResponseMIMETypes",
    ):
        assert spec[key] == theirs_spec[key], key
    assert spec["Containers"][0]["ModelDataUrl"] == theirs_spec["Containers"][0]["ModelDataUrl"]


def test_images_and_machines_from_parameters_match_the_sdk() -> None:
    """Item 1 of the ports: a processing image, a training image with its instance type and
    count, and a model package's serving image, each a pipeline parameter, are the SDK's expressions."""
    printed = _sdk("sdk_oracle_images.py")
    sdk = {s["Name"]: s["Arguments"] for s in printed["definition"]["Steps"]}
    ours_definition = json.loads(compiled("case-image_parameter")[1]["pipeline.json"])
    ours = {s["Name"]: s["Arguments"] for s in ours_definition["Steps"]}
    assert _shape(ours_definition)["parameters"] == _shape(printed["definition"])["parameters"]
    for step, field in (("where", "AppSpecification"), ("fit", "AlgorithmSpecification")):
        image = "ImageUri" if step == "where" else "TrainingImage"
        assert ours[step][field][image] == sdk[step][field][image], step
    assert ours["where"]["AppSpecification"]["ImageUri"] == {"Get": "Parameters.tools_image"}
    for key, name in (("InstanceType", "trainer_instance"), ("InstanceCount", "trainer_count")):
        mine, theirs = ours["fit"]["ResourceConfig"][key], sdk["fit"]["ResourceConfig"][key]
        assert mine == theirs == {"Get": f"Parameters.{name}"}, key
    serving = json.loads(compiled("case-serving_parameters")[1]["pipeline.json"])
    (register,) = [s for s in serving["Steps"] if s["Type"] == "RegisterModel"]
    (mine,) = register["Arguments"]["InferenceSpecification"]["Containers"]
    (theirs,) = printed["inference"]["Containers"]
    assert mine["Image"] == theirs["Image"] == {"Get": "Parameters.serving_image"}


def test_container_outputs_match_the_sdk() -> None:
    """Item 7 of the ports: a container's output values are processing outputs (name, local
    path, upload mode) whose S3 prefix the next step reads, as the SDK writes them."""
    sdk = {s["Name"]: s["Arguments"] for s in _sdk("sdk_oracle_container_outputs.py")["Steps"]}
    ours_definition = json.loads(compiled("case-container_outputs")[1]["pipeline.json"])
    ours = {s["Name"]: s["Arguments"] for s in ours_definition["Steps"]}

    def outputs(args: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (o["OutputName"], o["S3Output"]["LocalPath"], o["S3Output"]["S3UploadMode"])
            for o in args["ProcessingOutputConfig"]["Outputs"]
        ]

    def read(args: dict[str, Any]) -> dict[str, Any]:
        return {
            i["InputName"]: i["S3Input"]
            for i in args["ProcessingInputs"]
            if i["InputName"] != "mlc-code"  # our code bundle: the SDK's would be its source
        }

    assert outputs(ours["measure"]) == outputs(sdk["measure"])
    assert read(ours["describe"]) == read(sdk["describe"])
    assert (
        ours["measure"]["AppSpecification"]["ImageUri"]
        == sdk["measure"]["AppSpecification"]["ImageUri"]
    )
