"""Deploying a SageMaker build: upload the code bundles, create or update the pipeline, start it.

Reads only the build folder (``pipeline.json``, ``code/``, ``manifest.json``), so what is
deployed is exactly what was compiled and reviewed. The bundles are content-addressed, so one
already in S3 is not uploaded again. The pipeline carries the profile's tags plus the IR hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcompile.errors import DeployError

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


def deploy(
    build_dir: Path,
    *,
    session: Any = None,
    endpoint_url: str | None = None,
    start: bool = True,
    parameters: dict[str, str] | None = None,
) -> Deployment:
    """Deploy the build in ``build_dir``; ``session`` is a boto3 Session (default: a new one)."""
    import boto3

    manifest = json.loads((build_dir / "manifest.json").read_text())
    if manifest.get("platform") != "sagemaker":
        raise DeployError(f"{build_dir} holds a {manifest.get('platform')} build, not sagemaker")
    info = manifest["sagemaker"]
    session = session or boto3.Session()
    s3 = session.client("s3", endpoint_url=endpoint_url)
    sm = session.client("sagemaker", endpoint_url=endpoint_url)
    uploaded = _upload_bundles(s3, build_dir, info)
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
        else:
            sm.update_pipeline(**common)
            sm.add_tags(ResourceArn=arn, Tags=tags)
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


def _upload_bundles(s3: Any, build_dir: Path, info: dict[str, Any]) -> tuple[str, ...]:
    error = _client_error()
    bucket = info["artifact_bucket"]
    uploaded = []
    for rel in info["bundles"]:
        key = f"{info['code_prefix']}/{Path(rel).name}"
        try:
            s3.head_object(Bucket=bucket, Key=key)
            continue
        except error as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") not in (
                "404",
                "NoSuchKey",
                "NotFound",
            ):
                raise DeployError(f"cannot read s3://{bucket}/{key}: {exc}") from None
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=(build_dir / rel).read_bytes())
        except error as exc:
            raise DeployError(
                f"cannot upload the code bundle to s3://{bucket}/{key} (does the infra stack exist?): {exc}"
            ) from None
        uploaded.append(f"s3://{bucket}/{key}")
    return tuple(uploaded)
