"""Deploying a SageMaker build: upload the code bundles, create or update the pipeline, start it.

Reads only the build folder (``pipeline.json``, ``code/``, ``manifest.json``), so what is
deployed is exactly what was compiled and reviewed. The bundles are content-addressed, so one
already in S3 with the same SHA-256 is not uploaded again (one with other content is replaced). The pipeline carries the profile's tags plus the IR hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcompile.deploy.progress import with_progress
from mlcompile.errors import DeployError
from mlcompile.profiles import Profile

#: The service takes up to 1 MiB inline; larger definitions go through S3.
INLINE_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Deployment:
    pipeline_arn: str
    created: bool
    uploaded: tuple[str, ...]
    execution_arn: str | None


def _client_error() -> type[Exception]:
    from botocore.exceptions import ClientError

    found: type[Exception] = ClientError
    return found


def _aws_failures() -> tuple[type[Exception], ...]:
    """What a call to AWS raises when it cannot be made or is refused."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def check_caller(session: Any, profile: Profile, endpoint_url: str | None) -> str:
    """Stop before any change unless the credentials are for the profile's account and the
    region is the profile's: a deploy must never land in another account than reviewed."""
    region = session.region_name
    if region is None:
        raise DeployError(
            f"no AWS region is set; the profile deploys to {profile.region}: "
            f"export AWS_DEFAULT_REGION={profile.region} (or set it in your AWS config)"
        )
    if region != profile.region:
        raise DeployError(
            f"the AWS region is {region} but profile {profile.name} deploys to {profile.region}: "
            f"export AWS_DEFAULT_REGION={profile.region}, or use the profile of {region}"
        )
    from botocore.exceptions import NoCredentialsError

    try:
        account = str(
            session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
        )
    except NoCredentialsError:
        raise DeployError(
            f"no AWS credentials found; sign in to account {profile.account} "
            "(for example `aws sso login` or a CI OIDC role) and deploy again"
        ) from None
    except _aws_failures() as exc:
        raise DeployError(
            f"cannot tell which AWS account these credentials are for: {exc}"
        ) from None
    if account != profile.account:
        raise DeployError(
            f"these AWS credentials are for account {account}, but profile {profile.name} "
            f"deploys to account {profile.account}; nothing was changed. Use credentials for "
            f"{profile.account}"
        )
    return account


def deploy(
    build_dir: Path,
    profile: Profile | None = None,
    *,
    session: Any = None,
    endpoint_url: str | None = None,
    start: bool = True,
    parameters: dict[str, str] | None = None,
) -> Deployment:
    """Deploy the build in ``build_dir``; ``session`` is a boto3 Session (default: a new one).
    With ``profile``, the caller's account and region are checked against it first. A failure
    says what was already done; running the same deploy again resumes (every step is an
    upsert)."""
    import boto3

    manifest = json.loads((build_dir / "manifest.json").read_text())
    if manifest.get("platform") != "sagemaker":
        raise DeployError(f"{build_dir} holds a {manifest.get('platform')} build, not sagemaker")
    session = session or boto3.Session()
    if profile is not None:
        check_caller(session, profile, endpoint_url)
    done: list[str] = []
    try:
        return _deploy(build_dir, manifest, session, endpoint_url, start, parameters, done)
    except DeployError as exc:
        raise DeployError(with_progress(str(exc), done)) from None
    except _aws_failures() as exc:
        raise DeployError(with_progress(f"an AWS call failed: {exc}", done)) from None


def _deploy(
    build_dir: Path,
    manifest: dict[str, Any],
    session: Any,
    endpoint_url: str | None,
    start: bool,
    parameters: dict[str, str] | None,
    done: list[str],
) -> Deployment:
    info = manifest["sagemaker"]
    s3 = session.client("s3", endpoint_url=endpoint_url)
    sm = session.client("sagemaker", endpoint_url=endpoint_url)
    uploaded = _upload_bundles(s3, build_dir, info, done)
    definition = (build_dir / manifest["spec"]).read_text()
    source: dict[str, Any] = {"PipelineDefinition": definition}
    if len(definition.encode()) > INLINE_LIMIT:
        key = f"{info['pipeline_name']}/definitions/{manifest['files'][manifest['spec']]}.json"
        s3.put_object(Bucket=info["artifact_bucket"], Key=key, Body=definition.encode())
        source = {
            "PipelineDefinitionS3Location": {"Bucket": info["artifact_bucket"], "ObjectKey": key}
        }
    common: dict[str, Any] = {
        "PipelineName": info["pipeline_name"],
        "RoleArn": info["role_arn"],
        "PipelineDescription": f"mlcompile {manifest['pipeline']} (IR {manifest['ir_hash'][:12]})",
        **source,
    }
    if info.get("max_parallel_steps"):
        common["ParallelismConfiguration"] = {
            "MaxParallelExecutionSteps": info["max_parallel_steps"]
        }
    tags = [{"Key": k, "Value": v} for k, v in sorted(info["tags"].items())]
    error = _client_error()
    try:
        arn = sm.describe_pipeline(PipelineName=info["pipeline_name"])["PipelineArn"]
        created = False
    except error:
        arn = None
    try:
        if arn is None:
            arn = sm.create_pipeline(**common, Tags=tags)["PipelineArn"]
            created = True
            done.append(f"created pipeline {info['pipeline_name']}")
        else:
            sm.update_pipeline(**common)
            sm.add_tags(ResourceArn=arn, Tags=tags)
            done.append(f"updated pipeline {info['pipeline_name']}")
        execution = None
        if start:
            execution = sm.start_pipeline_execution(
                PipelineName=info["pipeline_name"],
                PipelineParameters=[
                    {"Name": k, "Value": v} for k, v in sorted((parameters or {}).items())
                ],
            )["PipelineExecutionArn"]
    except error as exc:
        raise DeployError(f"SageMaker refused pipeline {info['pipeline_name']!r}: {exc}") from None
    return Deployment(arn, created, uploaded, execution)


def _upload_bundles(
    s3: Any, build_dir: Path, info: dict[str, Any], done: list[str]
) -> tuple[str, ...]:
    """Upload each bundle unless the object under its key has the same SHA-256: a key that
    exists with other content (a partial or tampered upload) is replaced, not trusted."""
    error = _client_error()
    bucket = info["artifact_bucket"]
    uploaded = []
    for rel in info["bundles"]:
        key = f"{info['code_prefix']}/{Path(rel).name}"
        body = (build_dir / rel).read_bytes()
        checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
        try:
            head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
            if head.get("ChecksumSHA256") == checksum:
                continue
        except error as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") not in (
                "404",
                "NoSuchKey",
                "NotFound",
            ):
                raise DeployError(f"cannot read s3://{bucket}/{key}: {exc}") from None
        try:
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
            )
        except error as exc:
            raise DeployError(
                f"cannot upload the code bundle to s3://{bucket}/{key} (does the infra stack exist?): {exc}"
            ) from None
        uploaded.append(f"s3://{bucket}/{key}")
        done.append(f"uploaded s3://{bucket}/{key}")
    return tuple(uploaded)
