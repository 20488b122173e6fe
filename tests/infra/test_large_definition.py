"""A definition over CreatePipeline's 1 MB inline limit goes through S3, encrypted with the
artifact bucket's key, both in the generated stack (under mocks) and in `mlcompile deploy`
(against a moto server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcompile.infra import policy
from mlcompile.loader import load
from mlcompile.platforms import get
from tests.conftest import REPO, profile
from tests.infra.harness import PLANTED_SECRETS, build_stack

LARGE = REPO / "tests" / "cases" / "large" / "pipeline.py"
LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def large_pipeline():  # type: ignore[no-untyped-def]
    return load(str(LARGE)).build()


def test_the_case_is_over_the_inline_limit(large_pipeline) -> None:  # type: ignore[no-untyped-def]
    files = get("sagemaker").compile(large_pipeline, profile("sagemaker-dev")).files
    assert len(files["pipeline.json"]) > LIMIT


@pytest.mark.slow
def test_the_stack_stores_a_large_definition_in_the_bucket(large_pipeline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stack = build_stack(large_pipeline, profile("sagemaker-dev"), tmp_path)
    (pipeline,) = stack.of_type("aws:sagemaker/pipeline:Pipeline")
    assert "pipelineDefinition" not in pipeline.inputs
    location = pipeline.inputs["pipelineDefinitionS3Location"]
    (stored,) = stack.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert location["objectKey"] == stored.inputs["key"]
    assert stored.inputs["serverSideEncryption"] == "aws:kms" and stored.inputs["kmsKeyId"]
    assert json.loads(stored.inputs["content"])["Version"] == "2020-12-01"
    assert policy.check(stack.resources, PLANTED_SECRETS.values(), production=False) == []


@pytest.mark.slow
def test_deploy_uploads_a_large_definition(moto_url: str, tmp_path: Path) -> None:
    import boto3

    from tests.deploy.test_deploy import _account_creds, _env, cli, ensure_artifact_bucket

    creds = _account_creds(moto_url, "111122223333")
    s3 = boto3.client("s3", endpoint_url=moto_url, **creds)
    ensure_artifact_bucket(s3)
    args = ["deploy", str(LARGE), "-t", "sagemaker-dev", "--no-infra", "--no-start"]
    args += ["--endpoint-url", moto_url, "--out", str(tmp_path / "build"), "--json"]
    result = cli(*args, env=_env(creds))
    assert result.returncode == 0, result.stderr
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket="mlc-dev-artifacts-111122223333")["Contents"]
    ]
    (definition,) = [k for k in keys if "/definitions/" in k]
    body = s3.get_object(Bucket="mlc-dev-artifacts-111122223333", Key=definition)["Body"].read()
    assert body == (tmp_path / "build" / "pipeline.json").read_bytes()
