"""The PipelineJob request: where a run writes, who it runs as, how it is encrypted and labelled.

Every name comes from :func:`mlcompile.naming.resource_name`, the function the generated stack
calls, so the job uses the stack's bucket, service account and CMEK key. The pipeline root is
``gs://<artifact store>/runs``, the folder the stack's scheduled runs use too.

Labels follow GCP's rules (lowercase keys and values of at most 63 characters), so the 64-hex
IR hash cannot be a label value: the label ``mlcompile-ir-hash`` holds its first 16 hex digits
(enough to find the build), and the full hash is the last line of ``pipelineInfo.description``
(shown in the console, kept with the run) and in the build manifest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile

IR_HASH_LABEL = "mlcompile-ir-hash"
IR_HASH_LABEL_LENGTH = 16


@dataclass(frozen=True)
class Target:
    """The resources a compiled pipeline names, derived once from the profile."""

    name: str
    project: str
    region: str
    pipeline_root: str
    service_account: str
    kms_key: str
    network: str | None
    labels: dict[str, str]


def target(pipeline: ir.Pipeline, profile: Profile, ir_hash: str) -> Target:
    project, region = profile.account, profile.region
    key = resource_name(profile, "kms-key")
    identity = resource_name(profile, "pipeline-identity", pipeline.name)
    labels = dict(profile.labels)
    labels[IR_HASH_LABEL] = ir_hash[:IR_HASH_LABEL_LENGTH]
    return Target(
        name=resource_name(profile, "pipeline", pipeline.name),
        project=project,
        region=region,
        pipeline_root=f"gs://{resource_name(profile, 'artifact-store')}/runs",
        service_account=f"{identity}@{project}.iam.gserviceaccount.com",
        kms_key=profile.vertex.kms_key
        or f"projects/{project}/locations/{region}/keyRings/{key}/cryptoKeys/{key}",
        network=profile.vertex.network,
        labels=dict(sorted(labels.items())),
    )


def description(pipeline: ir.Pipeline, ir_hash: str) -> str:
    """The pipeline's description with the full IR hash as its last line."""
    line = f"mlcompile IR sha256:{ir_hash}"
    return f"{pipeline.description.strip()}\n\n{line}" if pipeline.description.strip() else line


def pipeline_job(
    pipeline: ir.Pipeline, where: Target, pipeline_spec: dict[str, Any]
) -> dict[str, Any]:
    """The body of ``pipelineJobs.create``: the spec, and the run's configuration.

    Parameter values are the pipeline's defaults, written out so a run of this request is
    reproducible; a parameter without a default must be given when the job is created.
    """
    values = {
        p.name: p.default for p in pipeline.parameters if p.has_default and p.default is not None
    }
    runtime: dict[str, Any] = {"gcsOutputDirectory": where.pipeline_root}
    if values:
        runtime["parameterValues"] = values
    job: dict[str, Any] = {
        "displayName": where.name,
        "encryptionSpec": {"kmsKeyName": where.kms_key},
        "labels": where.labels,
        "pipelineSpec": pipeline_spec,
        "runtimeConfig": runtime,
        "serviceAccount": where.service_account,
    }
    if where.network:
        job["network"] = where.network
    return job
