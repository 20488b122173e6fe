"""Deploying a Vertex build: upload the code bundle to the pipeline root, publish the template
where the stack's schedule reads it, then submit the PipelineJob request exactly as it was
compiled.

The template goes to the stack's KFP-format Artifact Registry repository, tagged ``latest`` and
with the IR hash, so the scheduled runs pick up the new version with no stack change. The job is
``pipeline_job.json`` as written by ``mlcompile compile`` (plus the profile's network), so what
runs is what was reviewed. Tests pass their own clients; no Google API is reachable offline.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcompile.deploy.bundles import BundleStore, upload_code_bundle
from mlcompile.errors import DeployError
from mlcompile.profiles import Profile


@dataclass(frozen=True)
class VertexDeployment:
    template: str
    job_name: str | None
    uploaded_bundle: str | None = None


def deploy(
    build_dir: Path,
    profile: Profile,
    *,
    start: bool = True,
    parameters: dict[str, Any] | None = None,
    registry: Any = None,
    jobs: Any = None,
    store: BundleStore | None = None,
) -> VertexDeployment:
    manifest = json.loads((build_dir / "manifest.json").read_text())
    if manifest.get("platform") != "vertex":
        raise DeployError(f"{build_dir} holds a {manifest.get('platform')} build, not vertex")
    request = json.loads((build_dir / "pipeline_job.json").read_text())
    name = request["displayName"]
    host = f"https://{profile.region}-kfp.pkg.dev/{profile.account}/{name}"
    uploaded = upload_code_bundle(build_dir, manifest, store)
    try:
        registry = registry or _registry(host)
        package, version = registry.upload_pipeline(
            str(build_dir / "pipeline.yaml"), tags=["latest", manifest["ir_hash"][:12]]
        )
        job_name = None
        if start:
            job = dict(request)
            if parameters:
                job["runtimeConfig"] = {
                    **job["runtimeConfig"],
                    "parameterValues": {**job["runtimeConfig"]["parameterValues"], **parameters},
                }
            if profile.vertex.network:
                job["network"] = profile.vertex.network
            jobs = jobs or _jobs(profile.region)
            created = jobs.create_pipeline_job(
                parent=f"projects/{profile.account}/locations/{profile.region}",
                pipeline_job=job,
                # Job ids are unique per project: the deploy time tells runs of one version apart.
                pipeline_job_id=f"{name}-{manifest['ir_hash'][:8]}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}",
            )
            job_name = str(created.name)
    except DeployError:
        raise
    except Exception as exc:  # google.api_core and requests raise their own error types
        raise DeployError(
            f"Vertex AI refused pipeline {name!r}: {type(exc).__name__}: {exc}"
        ) from None
    return VertexDeployment(f"{host}/{package}/{version}", job_name, uploaded)


def _registry(host: str) -> Any:
    from kfp.registry import RegistryClient

    return RegistryClient(host=host)


def _jobs(region: str) -> Any:
    from google.cloud import aiplatform_v1

    return aiplatform_v1.PipelineServiceClient(
        client_options={"api_endpoint": f"{region}-aiplatform.googleapis.com"}
    )
