"""Kubeflow's builtin operations, run inside step containers by the runtime.

``deploy_model`` applies a KServe
InferenceService for that version through the Kubernetes API, with the pod's service account;
``batch_predict`` scores a CSV or JSON-lines data set with the model. Standard library only,
except the model's own framework, which the step's image provides.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.request
from pathlib import Path
from typing import Any

from mlcompile.dsl.artifacts import (
    Artifact,
    Dataset,
    Input,
    Model,
    Output,
    RegisteredModel,
)
from mlcompile.runtime.predict import batch

_SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
#: Set to 1 to write the InferenceService without applying it (no cluster, e.g. local runs).
DRY_RUN_VARIABLE = "MLCOMPILE_KSERVE_DRY_RUN"


def inference_service(
    model: RegisteredModel,
    endpoint: str,
    namespace: str,
    resources: dict[str, str],
    replicas: tuple[int, int],
    logger_url: str = "",
    limits: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The KServe v1beta1 InferenceService serving ``model``; with ``logger_url``, KServe's
    request logger posts each request there (a CloudEvent) for the endpoint's monitor. The
    limits are the requests unless ``limits`` raises them."""
    meta = model.metadata
    predictor: dict[str, Any] = {"minReplicas": replicas[0], "maxReplicas": replicas[1]}
    if logger_url:
        predictor["logger"] = {"mode": "request", "url": logger_url}
    serving: dict[str, Any] = {"storageUri": model.uri}
    if resources:
        serving["resources"] = {"requests": resources, "limits": {**resources, **(limits or {})}}
    if meta.get("serving_image"):
        predictor["containers"] = [
            {"name": "kserve-container", "image": meta["serving_image"], **serving}
        ]
    else:
        serving["modelFormat"] = {"name": meta.get("framework", "sklearn")}
        predictor["model"] = serving
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {
            "name": endpoint,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "mlcompile"},
            "annotations": {
                "mlcompile.io/model": str(meta.get("model_name", "")),
                "mlcompile.io/model-version": str(meta.get("version", "")),
            },
        },
        "spec": {"predictor": predictor},
    }


def deploy_model(
    model: Input[RegisteredModel],
    endpoint: Output[Artifact],
    endpoint_name: str = "",
    namespace: str = "kubeflow",
    min_replicas: int = 1,
    max_replicas: int = 1,
    serving_resources: dict[str, str] | None = None,
    logger_url: str = "",
    serving_limits: dict[str, str] | None = None,
) -> None:
    """Create or update the endpoint (server-side apply), and record its manifest."""
    manifest = inference_service(
        model,
        endpoint_name,
        namespace,
        serving_resources or {},
        (min_replicas, max_replicas),
        logger_url,
        limits=serving_limits,
    )
    Path(endpoint.path).parent.mkdir(parents=True, exist_ok=True)
    Path(endpoint.path).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    endpoint.metadata.update({"endpoint": endpoint_name, "namespace": namespace})
    if os.environ.get(DRY_RUN_VARIABLE) == "1":
        print(
            f"{DRY_RUN_VARIABLE}=1: InferenceService {namespace}/{endpoint_name} written, not applied"
        )
        endpoint.metadata["applied"] = False
        return
    _apply(manifest)
    endpoint.metadata["applied"] = True


def _apply(manifest: dict[str, Any]) -> None:
    token_file = _SERVICE_ACCOUNT / "token"
    if not token_file.exists():
        raise RuntimeError(
            "deploy_model needs the Kubernetes API: no service account token in this pod "
            f"(set {DRY_RUN_VARIABLE}=1 to only write the InferenceService)"
        )
    meta = manifest["metadata"]
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    url = (
        f"https://{host}:{port}/apis/serving.kserve.io/v1beta1/namespaces/{meta['namespace']}"
        f"/inferenceservices/{meta['name']}?fieldManager=mlcompile&force=true"
    )
    request = urllib.request.Request(
        url,
        data=json.dumps(manifest).encode(),
        method="PATCH",
        headers={
            "Authorization": f"Bearer {token_file.read_text().strip()}",
            "Content-Type": "application/apply-patch+yaml",
        },
    )
    context = ssl.create_default_context(cafile=str(_SERVICE_ACCOUNT / "ca.crt"))
    with urllib.request.urlopen(request, context=context, timeout=60) as response:
        print(
            f"applied InferenceService {meta['namespace']}/{meta['name']}: HTTP {response.status}"
        )


def batch_predict(
    model: Input[Model],
    data: Input[Dataset],
    predictions: Output[Dataset],
    content_type: str = "text/csv",
) -> None:
    """One prediction per input row, read and written by the contract every platform shares."""
    Path(predictions.path).parent.mkdir(parents=True, exist_ok=True)
    rows = batch(Path(model.path), Path(data.path), Path(predictions.path), content_type)
    predictions.metadata["rows"] = rows
