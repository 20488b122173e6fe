"""Each step's KubernetesExecutorConfig: secrets, timeout, pod metadata, node selection.

These are what kfp-kubernetes writes (``use_secret_as_env``, ``set_timeout``,
``add_pod_annotation``, ``add_node_selector``, ``add_toleration``), in the platform document
that follows the pipeline spec in the same YAML file.
"""

from __future__ import annotations

from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.platforms import gpus
from mlcompile.platforms.kfp_spec import Step
from mlcompile.profiles import Profile

#: The Kubernetes Secret key holding the value, when a Secret(...) names no key.
DEFAULT_SECRET_KEY = "value"
IR_HASH_ANNOTATION = "mlcompile.io/ir-hash"
PIPELINE_LABEL = "mlcompile.io/pipeline"

#: The node label each cloud's managed Kubernetes puts the GPU model in; its value is the GPU
#: catalogue's canonical name (GKE's spelling: nvidia-tesla-a100 for A100 or NVIDIA_TESLA_A100),
#: or the gpu_type as written when the catalogue does not know it.
GPU_NODE_LABELS = {
    "gcp": "cloud.google.com/gke-accelerator",
    "aws": "k8s.amazonaws.com/accelerator",
    "azure": "accelerator",
}

#: platform_options={"kubeflow": {...}} keys and what each sets.
PLATFORM_OPTIONS = {
    "node_selector": "node labels the pod must match, {label: value}",
    "tolerations": "taints the pod tolerates, [{key, operator, value, effect}]",
    "image_pull_policy": "Always, IfNotPresent or Never",
    "pod_labels": "extra pod labels, {name: value}",
    "pod_annotations": "extra pod annotations, {name: value}",
}


def in_cluster_secrets(profile: Profile) -> bool:
    """True when the cluster puts secrets in the environment (a Secret, or Key Vault synced by
    the CSI driver); otherwise the step reads them from the cloud's secret manager itself."""
    return profile.effective_secrets_backend in ("kubernetes", "azure-key-vault")


def executor_config(step: Step, profile: Profile, pipeline: str, ir_hash: str) -> dict[str, Any]:
    options = step.task.options
    extra = options.platform_options.get("kubeflow", {})
    config: dict[str, Any] = {
        "podMetadata": {
            "annotations": {IR_HASH_ANNOTATION: ir_hash, **extra.get("pod_annotations", {})},
            "labels": {
                "app.kubernetes.io/managed-by": "mlcompile",
                PIPELINE_LABEL: pipeline,
                **extra.get("pod_labels", {}),
            },
        }
    }
    if options.secrets and in_cluster_secrets(profile):
        config["secretAsEnv"] = [_secret(step, s) for s in options.secrets]
    if options.timeout_seconds:
        config["activeDeadlineSeconds"] = str(options.timeout_seconds)
    labels = dict(extra.get("node_selector", {}))
    if options.resources.gpu and options.resources.gpu_type:
        gpu_type = options.resources.gpu_type
        labels[GPU_NODE_LABELS[profile.cloud]] = gpus.canonical(gpu_type) or gpu_type
    if labels:
        config["nodeSelector"] = {"labels": labels}
    if "tolerations" in extra:
        config["tolerations"] = [_toleration(t) for t in extra["tolerations"]]
    if "image_pull_policy" in extra:
        config["imagePullPolicy"] = extra["image_pull_policy"]
    return config


def _secret(step: Step, ref: ir.SecretRef) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "keyToEnv": [{"envVar": ref.env, "secretKey": ref.key or DEFAULT_SECRET_KEY}],
        "optional": False,
    }
    if isinstance(ref.name, ir.Literal):
        entry["secretName"] = ref.name.value
        entry["secretNameParameter"] = {"runtimeValue": {"constant": ref.name.value}}
    else:
        entry["secretNameParameter"] = step.resolve(ref.name)
    return entry


def _toleration(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: str(spec[k]) for k in ("key", "operator", "value", "effect") if k in spec
    }
    if "toleration_seconds" in spec:
        out["tolerationSeconds"] = str(int(spec["toleration_seconds"]))
    return out
