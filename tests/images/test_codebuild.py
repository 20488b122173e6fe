"""CodeBuild against a moto server: the context uploaded under the build-context prefix, a
build of the stack's project started and read back, the digest read from ECR; and an
unchanged environment found by a lookup, with no build started."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from mlcompile.images.builders.codebuild import CodeBuildBuilder
from mlcompile.images.command import build_images, plan
from mlcompile.images.registry import repository
from mlcompile.naming import resource_name
from tests.images.helpers import make_profile, two_environment_pipeline

pytestmark = pytest.mark.slow

PROFILE = """platform: sagemaker
cloud: aws
environment: dev
region: eu-west-1
account: "123456789012"
images:
  builder: codebuild
"""


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    profile = make_profile(PROFILE)
    session = boto3.session.Session(region_name="eu-west-1")
    clients = {n: session.client(n) for n in ("s3", "ecr", "codebuild", "iam")}
    bucket = resource_name(profile, "artifact-store")
    repo = resource_name(profile, "container-registry")
    project = resource_name(profile, "image-builder")
    clients["s3"].create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    clients["ecr"].create_repository(repositoryName=repo)
    clients["codebuild"].create_project(
        name=project,
        source={"type": "S3", "location": f"{bucket}/image-contexts/"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "privilegedMode": True,
        },
        serviceRole=f"arn:aws:iam::123456789012:role/{project}",
    )
    yield {"profile": profile, "bucket": bucket, "repo": repo, "project": project, **clients}
    for key in clients["s3"].list_objects_v2(Bucket=bucket).get("Contents", []):
        clients["s3"].delete_object(Bucket=bucket, Key=key["Key"])
    clients["s3"].delete_bucket(Bucket=bucket)
    clients["ecr"].delete_repository(repositoryName=repo, force=True)
    clients["codebuild"].delete_project(name=project)


def _push(ecr: Any, repo: str, tag: str) -> str:
    """What the build's `docker push` does to ECR (moto runs no build): the manifest, by tag."""
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": "sha256:" + "0" * 64,
                "size": 1,
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [],
        }
    )
    return str(
        ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag)["image"][
            "imageId"
        ]["imageDigest"]
    )


def test_build_uploads_starts_and_reads_back(aws: dict[str, Any], tmp_path: Path) -> None:
    profile = aws["profile"]
    pipeline = two_environment_pipeline(tmp_path)
    contexts = list(plan(pipeline, profile).contexts.values())
    builder = CodeBuildBuilder(profile, poll_seconds=0.01)
    repo = repository(profile)
    assert repo == f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{aws['repo']}"
    context = contexts[0]
    assert builder.lookup(repo, context.tag) is None

    build_id = builder.start(context, repo)
    build = aws["codebuild"].batch_get_builds(ids=[build_id])["builds"][0]
    assert build["projectName"] == aws["project"] and build["buildStatus"] == "SUCCEEDED"
    assert aws["codebuild"].list_builds_for_project(projectName=aws["project"])["ids"] == [build_id]
    body = aws["s3"].get_object(Bucket=aws["bucket"], Key=f"image-contexts/{context.tag}.tar.gz")
    archive = body["Body"].read()
    assert archive == context.archive()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        names = tar.getnames()
        dockerfile = tar.extractfile("Dockerfile").read().decode()  # type: ignore[union-attr]
    assert {"Dockerfile", "requirements.lock", "mlcompile/runtime/__main__.py"} <= set(names)
    assert dockerfile.splitlines()[1] == "FROM python:3.11-slim"

    digest = _push(aws["ecr"], aws["repo"], context.tag)
    assert builder.build(context, repo) == digest  # a second build, then the digest from ECR
    assert len(aws["codebuild"].list_builds_for_project(projectName=aws["project"])["ids"]) == 2


def test_unchanged_environment_is_a_lookup(aws: dict[str, Any], tmp_path: Path) -> None:
    profile = aws["profile"]
    pipeline = two_environment_pipeline(tmp_path)
    planned = plan(pipeline, profile)
    assert len(planned.contexts) == 2  # `make` installs six, `report` nothing
    digests = {key: _push(aws["ecr"], aws["repo"], c.tag) for key, c in planned.contexts.items()}
    _, record = build_images(pipeline, profile, tmp_path / "images")
    assert record is not None
    assert aws["codebuild"].list_builds_for_project(projectName=aws["project"])["ids"] == []
    assert {k: i.digest for k, i in record.environments.items()} == digests
    assert not any(i.built for i in record.environments.values())
    assert set(record.steps) == {"make", "report"}
