"""The prebuilt Vertex AI prediction container that serves a registered model, by framework.

Vertex serves a model from a folder in Cloud Storage with a prebuilt image per framework
(``<region group>-docker.pkg.dev/vertex-ai/prediction/<image>:latest``, in the image repository
nearest the profile's region). The folder layout each image expects is what the staging step
writes: ``model.pkl`` for scikit-learn (and older XGBoost pickles), ``model.bst`` for XGBoost as
``Model.save`` writes it, the SavedModel folder for TensorFlow. LightGBM has no prebuilt image,
and the PyTorch ones are TorchServe (a ``model.mar``, not TorchScript): the support table
refuses both. ``framework='custom'`` uses the step's ``serving_image``.
https://cloud.google.com/vertex-ai/docs/predictions/pre-built-containers
"""

from __future__ import annotations

from typing import Any

#: Framework -> (image name prefix, version used when register_model names none).
PREBUILT: dict[str, tuple[str, str]] = {
    "sklearn": ("sklearn-cpu", "1.5"),
    "xgboost": ("xgboost-cpu", "2.1"),
    "tensorflow": ("tf2-cpu", "2.15"),
    "pytorch": ("pytorch-cpu", "2.4"),
}


def _region_group(region: str) -> str:
    """Prebuilt images are published in the us, europe and asia Artifact Registry locations."""
    for group in ("europe", "asia"):
        if region.startswith(group):
            return group
    if region.startswith(("australia", "me-")):
        return "asia"
    return "us"


def serving_image(config: dict[str, Any], region: str) -> str:
    """The image serving a model registered with ``config`` (the register_model builtin's)."""
    if config.get("serving_image"):
        return str(config["serving_image"])
    name, default_version = PREBUILT[str(config["framework"])]
    version = str(config.get("framework_version") or default_version)
    # Images are tagged by major and minor version: 1.4.2 is served by 1-4.
    version = "-".join(version.split(".")[:2])
    return f"{_region_group(region)}-docker.pkg.dev/vertex-ai/prediction/{name}.{version}:latest"
