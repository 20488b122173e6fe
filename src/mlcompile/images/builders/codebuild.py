"""AWS CodeBuild: the context goes to the artifact store, a build of the stack's project builds
it and pushes ``repository:tag`` to ECR; the digest is read back from ECR.

The project (``resource_name(profile, 'image-builder')``) and its role come from the platform
stack; each build overrides only its source (the context's S3 object) and the image tag, so
the role stays scoped to that repository and the build-context prefix.
"""

from __future__ import annotations

import time
from typing import Any

from mlcompile.errors import ImageBuildError
from mlcompile.images.context import BuildContext
from mlcompile.images.registry import context_key
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile

#: The buildspec every build runs: log in to the registry, build, push.
BUILDSPEC = """version: 0.2
phases:
  pre_build:
    commands:
      - aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${IMAGE_REPOSITORY%%/*}"
  build:
    commands:
      - docker build --pull -t "$IMAGE_REPOSITORY:$IMAGE_TAG" .
  post_build:
    commands:
      - docker push "$IMAGE_REPOSITORY:$IMAGE_TAG"
"""
_DONE = {"SUCCEEDED", "FAILED", "FAULT", "STOPPED", "TIMED_OUT"}


class CodeBuildBuilder:
    name = "codebuild"

    def __init__(
        self,
        profile: Profile,
        *,
        endpoint_url: str | None = None,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 3600.0,
    ) -> None:
        import boto3

        session = boto3.session.Session(region_name=profile.region)
        self.s3: Any = session.client("s3", endpoint_url=endpoint_url)
        self.ecr: Any = session.client("ecr", endpoint_url=endpoint_url)
        self.codebuild: Any = session.client("codebuild", endpoint_url=endpoint_url)
        self.bucket = resource_name(profile, "artifact-store")
        self.project = resource_name(profile, "image-builder")
        self.repository_name = resource_name(profile, "container-registry")
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds

    def lookup(self, repository: str, tag: str) -> str | None:
        try:
            found = self.ecr.describe_images(
                repositoryName=self.repository_name, imageIds=[{"imageTag": tag}]
            )
        except self.ecr.exceptions.ImageNotFoundException:
            return None
        details = found.get("imageDetails") or []
        return str(details[0]["imageDigest"]) if details else None

    def start(self, context: BuildContext, repository: str) -> str:
        """Upload the context and start a build of it; the build id."""
        key = context_key(context.tag)
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=context.archive(), ServerSideEncryption="aws:kms"
        )
        started = self.codebuild.start_build(
            projectName=self.project,
            sourceTypeOverride="S3",
            sourceLocationOverride=f"{self.bucket}/{key}",
            buildspecOverride=BUILDSPEC,
            environmentVariablesOverride=[
                {"name": "IMAGE_REPOSITORY", "value": repository, "type": "PLAINTEXT"},
                {"name": "IMAGE_TAG", "value": context.tag, "type": "PLAINTEXT"},
            ],
        )
        return str(started["build"]["id"])

    def wait(self, build_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            build: dict[str, Any] = self.codebuild.batch_get_builds(ids=[build_id])["builds"][0]
            if build.get("buildStatus") in _DONE or build.get("buildComplete"):
                return build
            if time.monotonic() > deadline:
                raise ImageBuildError(f"CodeBuild build {build_id} did not finish in time")
            time.sleep(self.poll_seconds)

    def build(self, context: BuildContext, repository: str) -> str:
        build = self.wait(self.start(context, repository))
        if build.get("buildStatus") != "SUCCEEDED":
            raise ImageBuildError(
                f"CodeBuild build {build['id']} ended {build.get('buildStatus')}: see its logs "
                f"({build.get('logs', {}).get('deepLink', 'in the CodeBuild console')})"
            )
        digest = self.lookup(repository, context.tag)
        if digest is None:
            raise ImageBuildError(
                f"CodeBuild build {build['id']} succeeded but {repository}:{context.tag} is not in ECR"
            )
        return digest
