"""Vertex's Google Cloud Pipeline Components, run on this machine in place of their launchers.

Each launcher is started with ``--type`` and a ``--payload`` (the Vertex API request, built
from the task's inputs by placeholders) and reports the resource it created in
``gcp_resources``. Locally:

- ``CustomJob`` runs the first worker pool's container command and args on this machine, as
  Vertex runs them in the pool's replica (the payload is a ``CustomJob`` resource:
  https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.customJobs ).
  The command writes the task's outputs through the executor input it is given
  (``{{$.json_escape[1]}}``), as GCPC's custom-job wrapper arranges:
  https://google-cloud-pipeline-components.readthedocs.io/en/google-cloud-pipeline-components-2.22.0/api/v1/custom_job.html
- ``UploadModel`` registers the staged model in the local model registry and outputs a
  ``google.VertexModel`` whose ``resourceName`` names that version
  (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.models/upload).
- ``DeployModel`` points the local endpoint named by the ``google.VertexEndpoint`` artifact at
  that version (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.endpoints/deployModel).
- ``BatchPredictionJob`` predicts every instance of the ``gcs_source`` files with that version,
  reading ``instancesFormat`` ``csv`` (a header row first) or ``jsonl``, and writes the
  predictions under ``gcs_destination.output_uri_prefix``
  (https://cloud.google.com/vertex-ai/docs/predictions/get-batch-predictions#input_data_requirements).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mlcompile.emulate.containers import ImageUnavailable
from mlcompile.emulate.entrypoints import NoStandIn
from mlcompile.emulate.kfp_ir import Execution, KfpRun, Outcome
from mlcompile.emulate.session import EmulationError
from mlcompile.local import registry
from mlcompile.local.values import ArtifactValue
from mlcompile.runtime import predict

_MODEL = re.compile(r"/models/(?P<name>[^/@]+)@(?P<version>\d+)$")


def project_and_location(job: dict[str, Any]) -> tuple[str, str]:
    """The PipelineJob's project and region, from its name or its labels."""
    name = str(job.get("name", ""))
    match = re.match(r"projects/([^/]+)/locations/([^/]+)/", name)
    if match:
        return match.group(1), match.group(2)
    root = str(job.get("runtimeConfig", {}).get("gcsOutputDirectory", ""))
    return "", root.split("/")[2] if root.count("/") > 2 else ""


def run_operation(run: KfpRun, execution: Execution) -> Outcome:
    container = execution.executor["container"]
    argv = run.fill([*container.get("args", [])], execution)
    options = _options(argv)
    kind = options.get("--type", "")
    payload_text = options.get("--payload", "{}")
    try:
        payload = json.loads(payload_text)
    except ValueError as exc:
        raise EmulationError(
            f"task {execution.task_name!r}: the {kind} payload is not JSON: {exc}"
        ) from None
    resources = options.get("--gcp_resources")
    if resources:
        Path(resources).parent.mkdir(parents=True, exist_ok=True)
        Path(resources).write_text(
            json.dumps(
                {"resources": [{"resourceType": kind, "resourceUri": f"local:{run.job_id}"}]}
            ),
            encoding="utf-8",
        )
    if kind == "CustomJob":
        return _custom_job(run, execution, payload)
    if kind == "UploadModel":
        return _upload(run, execution, payload)
    if kind == "DeployModel":
        return _deploy(run, execution, payload)
    if kind == "BatchPredictionJob":
        return _batch(run, execution, payload)
    raise EmulationError(
        f"task {execution.task_name!r} runs the Vertex operation {kind!r}, which has no local"
        " stand-in"
    )


def _options(argv: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for i, arg in enumerate(argv[:-1]):
        if arg.startswith("--"):
            found[arg] = argv[i + 1]
    return found


def _custom_job(run: KfpRun, execution: Execution, payload: dict[str, Any]) -> Outcome:
    pools = payload.get("job_spec", {}).get("worker_pool_specs") or []
    if not pools or "container_spec" not in pools[0]:
        raise EmulationError(f"task {execution.task_name!r}: the CustomJob has no container pool")
    spec = pools[0]["container_spec"]
    try:
        exit_ = run.launch(
            execution,
            str(spec.get("image_uri", "")),
            [str(a) for a in spec.get("command", [])],
            [str(a) for a in spec.get("args", [])],
            spec.get("env", []),
        )
    except (ImageUnavailable, NoStandIn) as exc:
        return Outcome("failed", f"the custom job's worker pool: {exc}")
    if exit_.code != 0:
        return Outcome("failed", f"the custom job's container exited with code {exit_.code}")
    return run.collect(execution)


def _upload(run: KfpRun, execution: Execution, payload: dict[str, Any]) -> Outcome:
    staged = execution.artifacts.get("unmanaged_container_model")
    if not isinstance(staged, ArtifactValue):
        raise EmulationError(f"task {execution.task_name!r} uploads no unmanaged_container_model")
    labels = payload.get("labels") or {}
    name = str(payload.get("display_name") or "model")
    framework = str(staged.metadata.get("framework") or "sklearn")
    approval = str(labels.get("approval") or staged.metadata.get("approval") or "")
    metrics = {k: float(v) for k, v in (staged.metadata.get("metrics") or {}).items()}
    session = run.session
    version, _ = session.call(
        lambda: registry.register(
            session.db, name, staged.sha256, framework, approval, metrics, session.run_id, 0
        )
    )
    resource = f"projects/{run.project}/locations/{run.location}/models/{name}@{version.version}"
    card = execution.folder / "model.json"
    card.write_text(json.dumps(version.card(), sort_keys=True), encoding="utf-8")
    definition = {"artifactType": {"schemaTitle": "google.VertexModel"}}
    artifact = run.store_artifact(card, definition, {"resourceName": resource})
    # ModelUploadOp takes the serving container from the artifact's containerSpec.
    image = (staged.metadata.get("containerSpec") or {}).get("imageUri", "?")
    note = f"uploaded {name} v{version.version}, served by {image}"
    return Outcome("done", message=note, artifacts={"model": artifact})


def _version(run: KfpRun, execution: Execution, resource: str) -> registry.ModelVersion:
    match = _MODEL.search(resource)
    if match is None:
        raise EmulationError(f"task {execution.task_name!r}: {resource!r} names no model version")
    session = run.session
    name, number = match.group("name"), int(match.group("version"))
    found = session.call(lambda: registry.model(session.db, name, number))
    if found is None:
        raise EmulationError(
            f"task {execution.task_name!r}: model {name}@{number} is not registered"
        )
    return found


def _deploy(run: KfpRun, execution: Execution, payload: dict[str, Any]) -> Outcome:
    version = _version(run, execution, str(payload.get("deployed_model", {}).get("model", "")))
    endpoint = str(payload.get("endpoint", "")).rsplit("/", 1)[-1] or "endpoint"
    session = run.session
    session.call(lambda: registry.deploy(session.db, endpoint, version, session.run_id, 0))
    resources = payload.get("deployed_model", {}).get("dedicated_resources", {})
    machine = resources.get("machine_spec", {}).get("machine_type", "?")
    return Outcome(
        "done",
        message=f"endpoint {endpoint} serves {version.name} v{version.version} on {machine}",
    )


def _batch(run: KfpRun, execution: Execution, payload: dict[str, Any]) -> Outcome:
    # A model nothing registered comes staged, as the unmanaged_container_model artifact;
    # a registered one by its Model Registry resource name.
    staged = execution.artifacts.get("unmanaged_container_model")
    if not payload.get("model") and isinstance(staged, ArtifactValue):
        model_path = Path(staged.path)
    else:
        version = _version(run, execution, str(payload.get("model", "")))
        model_path = run.session.store.path_of(version.model_sha256)
    source = payload.get("input_config", {})
    uris = source.get("gcs_source", {}).get("uris") or []
    fmt = str(source.get("instances_format", "jsonl"))
    if fmt not in ("csv", "jsonl"):
        raise EmulationError(
            f"task {execution.task_name!r}: instances format {fmt!r} is not csv/jsonl"
        )
    out_dir = Path(
        execution.output_uris.get("gcs_output_directory") or execution.folder / "predictions"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    for i, uri in enumerate(uris):
        local = run.local_path(str(uri))
        if local is None or not local.exists():
            raise EmulationError(f"task {execution.task_name!r}: no instances at {uri}")
        content_type = "text/csv" if fmt == "csv" else "application/jsonlines"
        rows += predict.batch(model_path, local, out_dir / f"predictions_{i:05d}", content_type)
    # GCPC's outputs: the job (a google.VertexBatchPredictionJob naming it) and the folder of
    # predictions; a BigQuery table only when the destination is one, which is never compiled.
    job = (
        f"projects/{run.project}/locations/{run.location}/batchPredictionJobs/"
        f"{run.job_id}-{execution.task_name}"
    )
    artifacts: dict[str, ArtifactValue] = {}
    for name, definition in (
        execution.component.get("outputDefinitions", {}).get("artifacts", {}).items()
    ):
        if name == "gcs_output_directory":
            artifacts[name] = run.store_artifact(out_dir, definition, {})
        elif name == "batchpredictionjob":
            card = execution.folder / "batch-prediction-job.json"
            card.write_text(json.dumps({"resourceName": job, "rows": rows}), encoding="utf-8")
            artifacts[name] = run.store_artifact(card, definition, {"resourceName": job})
    return Outcome("done", message=f"{rows} predictions", artifacts=artifacts)
