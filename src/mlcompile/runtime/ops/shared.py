"""Step-side operations the lowering adds to a KFP pipeline, run by the runtime like user steps.

Kept to the standard library and the artifact classes: they run inside every step image.
``register_model`` records a version of a model (its content hash) as a folder at
``<pipeline root>/models/<name>/<version>/``: Kubeflow's registry, and the layout Vertex's
model upload reads.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from mlcompile.dsl.artifacts import Input, Metrics, Model, Output, RegisteredModel
from mlcompile.runtime.kfp import local_path

MODEL_FILE = "model.pkl"


def read_metric(metrics: Input[Metrics], key: str) -> float:
    """One number from a Metrics artifact, so a condition can compare it as a parameter."""
    return metrics.get(key)


def fail(message: str) -> None:
    """``fail()``: the step exits non-zero with the user's message, which fails the run."""
    raise SystemExit(f"fail(): {message}")


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        sha.update(file.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        sha.update(file.read_bytes())
    return sha.hexdigest()


def register_model(
    model: Input[Model],
    registered_model: Output[RegisteredModel],
    model_name: str,
    framework: str,
    approval: str = "PendingManualApproval",
    metrics: Input[Metrics] | None = None,
    description: str = "",
    framework_version: str = "",
    serving_image: str = "",
    pipeline_root: str = "",
) -> None:
    """Copy the model to its versioned folder; the version is its content hash, so registering
    the same model twice gives the same version."""
    source = Path(model.path)
    version = _digest(source)[:12]
    if pipeline_root:
        registered_model.uri = f"{pipeline_root.rstrip('/')}/models/{model_name}/{version}"
        registered_model.path = local_path(registered_model.uri)
    target = Path(registered_model.path)
    if target.exists():
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.mkdir(parents=True)
        shutil.copyfile(source, target / MODEL_FILE)
    registered_model.metadata.update(
        {
            "model_name": model_name,
            "version": version,
            "framework": framework,
            "framework_version": framework_version,
            "approval": approval,
            "description": description,
            "serving_image": serving_image,
            "source_uri": model.uri,
            "metrics": metrics.read() if metrics is not None else {},
        }
    )
