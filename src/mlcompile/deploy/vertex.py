"""Deploying a Vertex build: upload the code bundle to the pipeline root, publish the template
where the stack's schedule reads it, then submit the PipelineJob request exactly as it was
compiled.

The template goes to the stack's KFP-format Artifact Registry repository, tagged ``latest`` and
with the IR hash, so the scheduled runs pick up the new version with no stack change. The job is
``pipeline_job.json`` as written by ``mlcompile compile`` (plus the profile's network), so what
runs is what was reviewed. Before any call the caller's project and region are checked against
the profile, and a failure names what was already done. Tests pass their own clients and
credentials; no Google API is reachable offline.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcompile.deploy.bundles import BundleStore, upload_code_bundle
from mlcompile.deploy.progress import with_progress
from mlcompile.errors import DeployError
from mlcompile.profiles import Profile


@dataclass(frozen=True)
class VertexDeployment:
    template: str
    job_name: str | None
    uploaded_bundle: str | None = None


#: Where the Cloud SDK and client libraries take a default region from, most specific first
#: (gcloud reads ``CLOUDSDK_<SECTION>_<PROPERTY>``: https://cloud.google.com/sdk/docs/properties).
REGION_VARIABLES = ("CLOUDSDK_AI_REGION", "GOOGLE_CLOUD_REGION", "CLOUDSDK_COMPUTE_REGION")

#: ``google.auth.default``: the credentials and the project they resolve to.
Auth = Callable[[], tuple[Any, str | None]]


def _default_auth() -> tuple[Any, str | None]:
    import google.auth

    credentials, project = google.auth.default(
        scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    return credentials, project


def check_caller(profile: Profile, auth: Auth | None = None) -> Any:
    """Stop before any change unless the ambient credentials resolve to the profile's project
    (and bill its quota there) and no ambient region names another: a deploy must never land
    in another project than the one reviewed. Returns the credentials, for the clients."""
    for variable in REGION_VARIABLES:
        region = os.environ.get(variable)
        if region and region != profile.region:
            raise DeployError(
                f"{variable} is {region} but profile {profile.name} deploys to "
                f"{profile.region}; nothing was changed. Unset it or set it to {profile.region}, "
                f"or use the profile of {region}"
            )
    try:
        credentials, project = (auth or _default_auth)()
    except Exception as exc:  # google.auth.exceptions.DefaultCredentialsError, or a refresh error
        raise DeployError(
            f"no usable Google credentials ({type(exc).__name__}: {exc}); sign in to project "
            f"{profile.account} (`gcloud auth application-default login`, or a CI workload "
            "identity) and deploy again"
        ) from None
    quota = getattr(credentials, "quota_project_id", None)
    for what, found in (("project", project), ("quota project", quota)):
        if found and found != profile.account:
            raise DeployError(
                f"these Google credentials are for {what} {found}, but profile {profile.name} "
                f"deploys to project {profile.account}; nothing was changed. Use credentials "
                f"for {profile.account} (`gcloud config set project {profile.account}`, "
                f"GOOGLE_CLOUD_PROJECT={profile.account})"
            )
    if not project and not quota:
        raise DeployError(
            f"cannot tell which Google Cloud project these credentials are for; nothing was "
            f"changed. Set GOOGLE_CLOUD_PROJECT={profile.account} and deploy again"
        )
    return credentials


def deploy(
    build_dir: Path,
    profile: Profile,
    *,
    start: bool = True,
    parameters: dict[str, Any] | None = None,
    registry: Any = None,
    jobs: Any = None,
    store: BundleStore | None = None,
    auth: Auth | None = None,
) -> VertexDeployment:
    """Deploy the build in ``build_dir`` once the caller is the profile's project (``auth``,
    default ``google.auth.default``). A failure says what was already done; running the same
    deploy again resumes (the bundle is content-addressed, the template a new version)."""
    manifest = json.loads((build_dir / "manifest.json").read_text())
    if manifest.get("platform") != "vertex":
        raise DeployError(f"{build_dir} holds a {manifest.get('platform')} build, not vertex")
    request = json.loads((build_dir / "pipeline_job.json").read_text())
    credentials = check_caller(profile, auth)
    done: list[str] = []
    try:
        return _deploy(
            build_dir,
            manifest,
            request,
            profile,
            credentials,
            start=start,
            parameters=parameters,
            clients=(registry, jobs, store),
            done=done,
        )
    except DeployError as exc:
        raise DeployError(with_progress(str(exc), done)) from None


def _deploy(
    build_dir: Path,
    manifest: dict[str, Any],
    request: dict[str, Any],
    profile: Profile,
    credentials: Any,
    *,
    start: bool,
    parameters: dict[str, Any] | None,
    clients: tuple[Any, Any, BundleStore | None],
    done: list[str],
) -> VertexDeployment:
    registry, jobs, store = clients
    name = request["displayName"]
    host = f"https://{profile.region}-kfp.pkg.dev/{profile.account}/{name}"
    uploaded = upload_code_bundle(
        build_dir, manifest, store or _bundle_store(manifest, profile, credentials)
    )
    if uploaded:
        done.append(f"uploaded {uploaded}")
    try:
        registry = registry or _registry(host, credentials)
        package, version = registry.upload_pipeline(
            str(build_dir / "pipeline.yaml"), tags=["latest", manifest["ir_hash"][:12]]
        )
        done.append(f"published template {host}/{package}/{version} (tag latest)")
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
            jobs = jobs or _jobs(profile.region, credentials)
            created = jobs.create_pipeline_job(
                parent=f"projects/{profile.account}/locations/{profile.region}",
                pipeline_job=job,
                # Job ids are unique per project: the deploy time tells runs of one version apart.
                pipeline_job_id=f"{name}-{manifest['ir_hash'][:8]}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}",
            )
            job_name = str(created.name)
            done.append(f"started pipeline job {job_name}")
    except DeployError:
        raise
    except Exception as exc:  # google.api_core and requests raise their own error types
        raise DeployError(
            f"Vertex AI refused pipeline {name!r}: {type(exc).__name__}: {exc}"
        ) from None
    return VertexDeployment(f"{host}/{package}/{version}", job_name, uploaded)


def _bundle_store(manifest: dict[str, Any], profile: Profile, credentials: Any) -> Any:
    """The Cloud Storage client as the checked caller, in the profile's project."""
    if not str((manifest.get("code_bundle") or {}).get("uri", "")).startswith("gs://"):
        return None
    from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]

    from mlcompile.deploy.bundles import GcsStore

    return GcsStore(storage.Client(project=profile.account, credentials=credentials))


def _registry(host: str, credentials: Any) -> Any:
    from kfp.registry import RegistryClient

    return RegistryClient(host=host, auth=credentials)


def _jobs(region: str, credentials: Any = None) -> Any:
    from google.cloud import aiplatform_v1

    return aiplatform_v1.PipelineServiceClient(
        credentials=credentials,
        client_options={"api_endpoint": f"{region}-aiplatform.googleapis.com"},
    )
