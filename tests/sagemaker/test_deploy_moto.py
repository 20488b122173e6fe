"""Deploying to a local moto server: bundles to S3, create then update the pipeline, tags with
the IR hash, an execution started with default parameters and described. moto accepts any
definition, so this proves the API calls; the definition itself is checked at compile time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlcompile.build import json_bytes, manifest
from mlcompile.deploy.sagemaker import deploy
from mlcompile.platforms import get
from tests.conftest import REPO, build_example, profile

pytestmark = pytest.mark.slow


@pytest.fixture
def session(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    import urllib.request

    import boto3

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))

    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )


def _write_build(out: Path, name: str = "churn") -> dict[str, Any]:
    pipeline = build_example(name)
    target = profile("sagemaker-dev")
    result = get("sagemaker").compile(pipeline, target)
    data = manifest(pipeline, target, REPO, result.spec, result.files, result.manifest_extra)
    for rel, content in {**result.files, "manifest.json": json_bytes(data)}.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(content)
    return data


def test_create_update_start(moto_url: str, session: Any, tmp_path: Path) -> None:
    data = _write_build(tmp_path)
    info = data["sagemaker"]
    s3 = session.client("s3", endpoint_url=moto_url)
    sm = session.client("sagemaker", endpoint_url=moto_url)
    s3.create_bucket(
        Bucket=info["artifact_bucket"],
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )

    first = deploy(tmp_path, session=session, endpoint_url=moto_url)
    assert first.created and len(first.uploaded) == 1
    (bundle,) = info["bundles"]
    key = f"{info['code_prefix']}/{Path(bundle).name}"
    body = s3.get_object(Bucket=info["artifact_bucket"], Key=key)["Body"].read()
    assert body == (tmp_path / bundle).read_bytes()
    described = sm.describe_pipeline(PipelineName="mlc-dev-churn")
    assert described["PipelineDefinition"] == (tmp_path / "pipeline.json").read_text()
    assert described["RoleArn"] == info["role_arn"]
    tags = {t["Key"]: t["Value"] for t in sm.list_tags(ResourceArn=first.pipeline_arn)["Tags"]}
    assert tags["mlcompile:ir-hash"] == data["ir_hash"]
    assert tags["environment"] == "dev"

    execution = sm.describe_pipeline_execution(PipelineExecutionArn=first.execution_arn)
    assert execution["PipelineExecutionStatus"] in ("Executing", "Succeeded")

    spec = json.loads((tmp_path / "pipeline.json").read_text())
    spec["Metadata"]["note"] = "second"
    (tmp_path / "pipeline.json").write_text(json.dumps(spec))
    second = deploy(tmp_path, session=session, endpoint_url=moto_url, start=False)
    assert not second.created and second.uploaded == () and second.execution_arn is None
    assert second.pipeline_arn == first.pipeline_arn
    assert "second" in sm.describe_pipeline(PipelineName="mlc-dev-churn")["PipelineDefinition"]


def test_missing_bucket_is_a_deploy_error(moto_url: str, session: Any, tmp_path: Path) -> None:
    from mlcompile.errors import DeployError

    _write_build(tmp_path, "minimal")
    with pytest.raises(DeployError, match="does the infra stack exist"):
        deploy(tmp_path, session=session, endpoint_url=moto_url)
