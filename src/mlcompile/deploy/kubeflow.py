"""Deploying a Kubeflow build: upload the code bundle and the pipeline (a new version per IR
hash), keep one recurring run per schedule, and start a run.

Reads only the build folder (``pipeline.yaml``, ``schedule.yaml``, ``code/``, ``manifest.json``). Talks to
the Kubeflow Pipelines API through ``kfp.Client``, so the cluster's usual authentication works
(in-cluster token, ``kube_context``, IAP); tests pass their own client. A profile without
``kubeflow.host`` is refused before anything is written (:func:`require_host`), the API is
reached once before the first upload, and a failure names what was already done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlcompile.deploy.bundles import BundleStore, upload_code_bundle
from mlcompile.deploy.progress import with_progress
from mlcompile.errors import DeployError, Diagnostic, SourceLocation, UserError
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile


@dataclass(frozen=True)
class KubeflowDeployment:
    pipeline_id: str
    version_id: str
    recurring_run_id: str | None
    run_id: str | None
    uploaded_bundle: str | None = None


_HOST_HINT = (
    "set kubeflow.host to the Kubeflow Pipelines API address (for example "
    "http://ml-pipeline-ui.kubeflow:80 inside the cluster, or the address of your Kubeflow "
    "dashboard's pipeline API)"
)


def require_host(profile: Profile, profile_file: Path | None = None) -> None:
    """Refuse, as bad input, to deploy a Kubeflow profile that names no API host: checked
    before the build is written, so nothing is left behind."""
    if profile.platform != "kubeflow" or profile.kubeflow.host:
        return
    location = None
    if profile_file is not None:
        lines = profile_file.read_text().splitlines() if profile_file.is_file() else []
        line = next((i for i, t in enumerate(lines, 1) if t.startswith("kubeflow:")), 1)
        location = SourceLocation(profile_file.as_posix(), line)
    raise UserError(
        Diagnostic(
            "MLC603",
            f"profile {profile.name} deploys to Kubeflow but sets no kubeflow.host",
            location,
            _HOST_HINT,
        )
    )


def _client(profile: Profile) -> Any:
    if not profile.kubeflow.host:
        raise DeployError(f"profile {profile.name!r} has no kubeflow.host: {_HOST_HINT}")
    import kfp

    try:
        return kfp.Client(host=profile.kubeflow.host, namespace=profile.kubeflow.namespace)
    except Exception as exc:  # kfp raises whatever its configuration or transport raised
        raise DeployError(
            f"cannot set up the Kubeflow Pipelines client for {profile.kubeflow.host}: "
            f"{type(exc).__name__}: {exc}; nothing was changed"
        ) from None


def check_connection(client: Any, profile: Profile) -> None:
    """One read call before any write: the API answers, and the caller may see the namespace."""
    try:
        client.list_experiments(page_size=1, namespace=profile.kubeflow.namespace)
    except Exception as exc:  # ApiException, urllib3 connection errors, auth plugin errors
        raise DeployError(
            f"cannot reach the Kubeflow Pipelines API at {profile.kubeflow.host or 'the client'}"
            f" as namespace {profile.kubeflow.namespace} ({type(exc).__name__}: {exc}); "
            "nothing was changed. Check kubeflow.host, the cluster connection and your "
            "credentials, then deploy again"
        ) from None


def deploy(
    build_dir: Path,
    profile: Profile,
    *,
    client: Any = None,
    start: bool = True,
    parameters: dict[str, Any] | None = None,
    store: BundleStore | None = None,
) -> KubeflowDeployment:
    """Deploy the build in ``build_dir``; a failure says what was already done, and running
    the same deploy again resumes (the pipeline is found by name and the schedule replaced by
    display name)."""
    manifest = json.loads((build_dir / "manifest.json").read_text())
    if manifest.get("platform") != "kubeflow":
        raise DeployError(f"{build_dir} holds a {manifest.get('platform')} build, not kubeflow")
    client = client or _client(profile)
    check_connection(client, profile)
    done: list[str] = []
    try:
        return _deploy(build_dir, manifest, profile, client, start, parameters, store, done)
    except DeployError as exc:
        raise DeployError(with_progress(str(exc), done)) from None


def _deploy(
    build_dir: Path,
    manifest: dict[str, Any],
    profile: Profile,
    client: Any,
    start: bool,
    parameters: dict[str, Any] | None,
    store: BundleStore | None,
    done: list[str],
) -> KubeflowDeployment:
    # First the code, then the pipeline that reads it: a run never starts without its steps.
    uploaded = upload_code_bundle(build_dir, manifest, store)
    if uploaded:
        done.append(f"uploaded {uploaded}")
    package = str(build_dir / manifest["spec"])
    name = resource_name(profile, "pipeline", manifest["pipeline"])
    version_name = manifest["ir_hash"][:12]
    description = f"mlcompile {manifest['pipeline']} (IR {manifest['ir_hash']})"
    try:
        pipeline_id = client.get_pipeline_id(name)
        if pipeline_id is None:
            pipeline_id = client.upload_pipeline(
                package,
                pipeline_name=name,
                description=description,
                namespace=profile.kubeflow.namespace,
            ).pipeline_id
            done.append(f"created pipeline {name} ({pipeline_id})")
        version_id = _existing_version(client, pipeline_id, version_name)
        if version_id is None:
            version_id = client.upload_pipeline_version(
                package,
                pipeline_version_name=version_name,
                pipeline_id=pipeline_id,
                description=description,
            ).pipeline_version_id
            done.append(f"uploaded version {version_name} ({version_id})")
        else:
            done.append(f"found version {version_name} ({version_id}), uploaded before")
        experiment_id = _experiment(client, name, profile.kubeflow.namespace, done)
        identity = resource_name(profile, "pipeline-identity", manifest["pipeline"])
        recurring = _schedule(
            client, build_dir, experiment_id, pipeline_id, version_id, identity, done
        )
        run_id = None
        if start:
            run_id = client.run_pipeline(
                experiment_id,
                f"{name}-{version_name}",
                pipeline_id=pipeline_id,
                version_id=version_id,
                params=parameters or {},
                service_account=identity,
            ).run_id
            done.append(f"started run {run_id}")
    except DeployError:
        raise
    except Exception as exc:  # the API client raises its own ApiException and urllib3 errors
        raise DeployError(f"Kubeflow Pipelines refused pipeline {name!r}: {exc}") from None
    return KubeflowDeployment(pipeline_id, version_id, recurring, run_id, uploaded)


def _existing_version(client: Any, pipeline_id: str, version_name: str) -> str | None:
    """The version of this name, when an earlier deploy uploaded it: a version is named by the
    IR hash, so it holds this very spec, and the server refuses a second one of that name
    within a pipeline (a rerun reuses it)."""
    only = {
        "predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": version_name}]
    }
    found = client.list_pipeline_versions(pipeline_id, page_size=1, filter=json.dumps(only))
    versions = getattr(found, "pipeline_versions", None) or []
    return str(versions[0].pipeline_version_id) if versions else None


def _experiment(client: Any, name: str, namespace: str, done: list[str]) -> str:
    try:
        experiment = client.get_experiment(experiment_name=name, namespace=namespace)
    except ValueError:  # kfp raises ValueError when no experiment has that name
        experiment = client.create_experiment(name, namespace=namespace)
        done.append(f"created experiment {name}")
    return str(experiment.experiment_id)


def _schedule(
    client: Any,
    build_dir: Path,
    experiment_id: str,
    pipeline_id: str,
    version_id: str,
    identity: str,
    done: list[str],
) -> str | None:
    """Replace the recurring run of the previous version, so one schedule runs the latest."""
    path = build_dir / "schedule.yaml"
    if not path.exists():
        return None
    spec = yaml.safe_load(path.read_text())["recurring_run"]
    listed = client.list_recurring_runs(experiment_id=experiment_id, page_size=100)
    for old in listed.recurring_runs or []:
        if old.display_name == spec["display_name"]:
            client.delete_recurring_run(old.recurring_run_id)
            done.append(f"deleted recurring run {old.recurring_run_id} of the previous version")
    created = client.create_recurring_run(
        experiment_id,
        spec["display_name"],
        description=spec["description"],
        cron_expression=spec["trigger"]["cron_schedule"]["cron"],
        max_concurrency=int(spec["max_concurrency"]),
        no_catchup=spec["no_catchup"],
        pipeline_id=pipeline_id,
        version_id=version_id,
        pipeline_root=spec.get("runtime_config", {}).get("pipeline_root"),
        service_account=identity,
    )
    done.append(f"created recurring run {created.recurring_run_id}")
    return str(created.recurring_run_id)
