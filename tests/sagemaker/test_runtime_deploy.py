"""The deploy step's API calls, checked against botocore's SageMaker and Application Auto Scaling
models: the runtime runs with the arguments the compiler wrote, against stubbed clients that
reject any parameter the service would (names, shapes, required members)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from mlcompile.platforms import get
from mlcompile.runtime import sagemaker as runtime
from tests.conftest import build_example, profile
from tests.sagemaker.helpers import compiled

PACKAGE = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/mlc-dev-churn/3"
SAGEMAKER = "arn:aws:sagemaker:eu-west-1:111122223333"


def _deploy_args(spec: bytes, parameters: dict[str, str] | None = None) -> list[str]:
    """The deploy step's container arguments, with the registered package and the run's
    ``parameters`` resolved."""

    def steps(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for step in items:
            yield step
            yield from steps(step["Arguments"].get("IfSteps", []))
            yield from steps(step["Arguments"].get("ElseSteps", []))

    (step,) = [s for s in steps(json.loads(spec)["Steps"]) if s["Name"] == "deploy_model"]
    arguments = step["Arguments"]["AppSpecification"]["ContainerArguments"]
    given = {f"Parameters.{k}": v for k, v in (parameters or {}).items()}
    return [given.get(a["Get"], PACKAGE) if isinstance(a, dict) else a for a in arguments]


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, *, scaled: bool) -> dict[str, Any]:
    """Run ``deploy`` against stubs; returns the endpoint config it requested."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sm = boto3.client("sagemaker")
    scaling = boto3.client("application-autoscaling")
    requested: dict[str, Any] = {}
    with Stubber(sm) as sm_stub, Stubber(scaling) as scaling_stub:
        sm_stub.add_response("create_model", {"ModelArn": f"{SAGEMAKER}:model/mlc-dev-churn-v3"})
        sm_stub.add_response(
            "create_endpoint_config",
            {"EndpointConfigArn": f"{SAGEMAKER}:endpoint-config/mlc-dev-churn-v3"},
        )
        sm_stub.add_response("list_endpoints", {"Endpoints": []})
        sm_stub.add_response(
            "create_endpoint", {"EndpointArn": f"{SAGEMAKER}:endpoint/mlc-dev-churn"}
        )
        sm_stub.add_response(
            "describe_endpoint",
            {
                "EndpointName": "mlc-dev-churn",
                "EndpointArn": f"{SAGEMAKER}:endpoint/mlc-dev-churn",
                "EndpointStatus": "InService",
                "CreationTime": "2024-01-01T00:00:00Z",
                "LastModifiedTime": "2024-01-01T00:00:00Z",
            },
        )
        if scaled:
            scaling_stub.add_response("register_scalable_target", {})
            scaling_stub.add_response(
                "put_scaling_policy",
                {"PolicyARN": "arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:1:x"},
                {
                    "PolicyName": "mlc-dev-churn-invocations",
                    "ServiceNamespace": "sagemaker",
                    "ResourceId": f"endpoint/mlc-dev-churn/variant/{runtime.VARIANT}",
                    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
                    "PolicyType": "TargetTrackingScaling",
                    "TargetTrackingScalingPolicyConfiguration": {
                        "TargetValue": runtime.INVOCATIONS_PER_INSTANCE,
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                        },
                        "ScaleInCooldown": 300,
                        "ScaleOutCooldown": 60,
                    },
                },
            )
        original = sm.create_endpoint_config

        def record(**kwargs: Any) -> Any:
            requested.update(kwargs)
            return original(**kwargs)

        monkeypatch.setattr(sm, "create_endpoint_config", record)
        clients = {"sagemaker": sm, "application-autoscaling": scaling}
        monkeypatch.setattr(boto3, "client", lambda name, *a, **k: clients[name])
        assert runtime.deploy(argv[1:-3]) == 0  # without "deploy" and the --output file
        sm_stub.assert_no_pending_responses()
        scaling_stub.assert_no_pending_responses()
    return requested


def test_deploy_captures_data_and_encrypts_with_the_stack_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = _deploy_args(compiled("example-churn")[1]["pipeline.json"])
    config = _run(argv, monkeypatch, scaled=False)
    key = "arn:aws:kms:eu-west-1:111122223333:alias/mlc-dev-artifacts"
    assert config["KmsKeyId"] == key
    capture = config["DataCaptureConfig"]
    assert capture["KmsKeyId"] == key
    assert capture["DestinationS3Uri"] == (
        "s3://mlc-dev-artifacts-111122223333/data-capture/mlc-dev-churn/"
    )
    assert config["ProductionVariants"][0]["VariantName"] == runtime.VARIANT


def test_instances_with_local_storage_get_no_volume_key(monkeypatch: pytest.MonkeyPatch) -> None:
    gpu = profile("sagemaker-dev").model_copy(
        update={"instance_types": {"deploy_model": "ml.g4dn.xlarge"}}
    )
    spec = get("sagemaker").compile(build_example("churn"), gpu).files["pipeline.json"]
    argv = _deploy_args(spec)
    assert "--volume-key" not in argv
    low, high = argv.index("--replicas") + 1, argv.index("--replicas") + 2
    argv[high] = str(int(argv[low]) + 2)  # exercise autoscaling too
    config = _run(argv, monkeypatch, scaled=True)
    assert "KmsKeyId" not in config and config["DataCaptureConfig"]["KmsKeyId"]


@pytest.mark.parametrize(("instance", "keyed"), [("ml.m5.large", True), ("ml.g5.xlarge", False)])
def test_an_instance_type_the_run_chooses_gets_a_volume_key_only_where_it_may(
    instance: str, keyed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compiler cannot tell a parameter's instance type, so it passes the key and the
    deploy step leaves it out for a type with NVMe instance storage."""
    spec = compiled("case-serving_parameters")[1]["pipeline.json"]
    argv = _deploy_args(spec, {"endpoint_instance": instance})
    assert "--volume-key" in argv
    config = _run(argv, monkeypatch, scaled=False)
    assert config["ProductionVariants"][0]["InstanceType"] == instance
    assert ("KmsKeyId" in config) is keyed
