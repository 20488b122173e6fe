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

from mlcompile.dsl.artifacts import Dataset, Input, Metrics, Model, Output, RegisteredModel
from mlcompile.runtime import frameworks
from mlcompile.runtime.kfp import local_path
from mlcompile.runtime.predict import MODEL_FILE

__all__ = ["MODEL_FILE"]


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
    frameworks.check_registered(source, framework, serving_image)
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


#: The switch the emulators and local runners set: no cluster or cloud service to publish to.
NO_SERVICES_VARIABLE = "MLCOMPILE_KSERVE_DRY_RUN"


def baseline_bytes(path: Path) -> bytes:
    """A Dataset artifact's content: the file, or the one data file of its folder."""
    if path.is_file():
        return path.read_bytes()
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    if len(files) != 1:
        raise ValueError(f"baseline {path} holds {len(files)} files; monitoring needs one CSV")
    return files[0].read_bytes()


def publish_baseline(data: Input[Dataset], endpoint: str, target: str = "") -> None:
    """Copy the monitor's baseline to where the stack's monitoring job of ``endpoint`` reads it:
    an object of the artifact bucket (``gs://``, through the step's storage mount) or the
    in-cluster request sink (``http://``, a PUT)."""
    import os
    import urllib.request

    body = baseline_bytes(Path(data.path))
    if os.environ.get(NO_SERVICES_VARIABLE) == "1":
        print(f"{NO_SERVICES_VARIABLE}=1: baseline of {endpoint} ({len(body)} bytes) not published")
        return
    if target.startswith(("http://", "https://")):
        request = urllib.request.Request(
            target, data=body, method="PUT", headers={"Content-Type": "text/csv"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            print(f"baseline of {endpoint} published to {target}: HTTP {response.status}")
        return
    destination = Path(local_path(target))
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(body)
    print(f"baseline of {endpoint} published to {target}")
