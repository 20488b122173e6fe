"""Step-side operations that prepare inputs for Vertex's own services, run by mlcompile's runtime.

Vertex's model upload and batch prediction read a model folder in the layout their prebuilt
serving images expect, and batch prediction reads instances from Cloud Storage files. A model a
step wrote is a single artifact, so ``stage_model`` lays it out as a versioned folder (the same
layout Kubeflow's registry uses) and describes it as an UnmanagedContainerModel, and
``stage_instances`` writes the data set as JSON-lines instances. Standard library only, except
the model's own framework when the instances are matched to the model's features.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlcompile.dsl.artifacts import Dataset, Input, Metrics, Model, Output, RegisteredModel
from mlcompile.runtime import frameworks
from mlcompile.runtime.ops.shared import register_model
from mlcompile.runtime.predict import Rows, parse_csv_rows


def stage_model(
    model: Input[Model],
    container_model: Output[RegisteredModel],
    model_name: str,
    framework: str,
    serving_image: str,
    labels: dict[str, str],
    approval: str = "PendingManualApproval",
    metrics: Input[Metrics] | None = None,
    description: str = "",
    pipeline_root: str = "",
) -> dict[str, str]:
    """Copy the model to ``<pipeline root>/models/<name>/<version>/`` with the serving image in
    its containerSpec; returns the model's labels, with its approval status and version."""
    register_model(
        model,
        container_model,
        model_name=model_name,
        framework=framework,
        approval=approval,
        metrics=metrics,
        description=description,
        serving_image=serving_image,
        pipeline_root=pipeline_root,
    )
    container_model.metadata["containerSpec"] = {"imageUri": serving_image}
    return {
        **labels,
        "approval": approval.lower(),
        "model-version": str(container_model.metadata["version"]),
    }


def stage_instances(
    data: Input[Dataset],
    instances: Output[Dataset],
    content_type: str = "text/csv",
    model: Input[Model] = None,  # type: ignore[assignment]
) -> list[str]:
    """One JSON-lines instance (a list of feature values) per input row; with the trained model,
    only the columns it was fitted on, in its order (a label column is dropped). Returns the
    instance files' URIs, as batch prediction's ``gcs_source_uris``."""
    text = Path(data.path).read_text(encoding="utf-8")
    if content_type == "text/csv":
        rows: Rows = parse_csv_rows(text)  # the same header rule as every platform's
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    names = _feature_names(Path(model.path)) if model is not None else []
    Path(instances.path).parent.mkdir(parents=True, exist_ok=True)
    with open(instances.path, "w", encoding="utf-8") as f:
        for row in rows:
            # Rows without names already hold the features, in training order.
            values = [row[n] for n in (names or list(row))] if isinstance(row, dict) else row
            f.write(json.dumps(values) + "\n")
    named = names or (list(rows[0]) if rows and isinstance(rows[0], dict) else [])
    instances.metadata.update({"rows": len(rows), "features": named})
    return [instances.uri]


def _feature_names(path: Path) -> list[str]:
    """The columns the model was fitted on, when it knows them: from its record, else from
    the loaded model (a scikit-learn pickle)."""
    try:
        _, record = frameworks.find(path)
        names = record.get("feature_names")
        fitted = None if names else frameworks.load(path)
    except Exception:
        return []
    if names:
        return [str(n) for n in names]
    fitted_names = getattr(fitted, "feature_names_in_", None)  # a NumPy array: no truth value
    return [] if fitted_names is None else [str(n) for n in fitted_names]
