"""A platform SDK that is not installed: which extra of mlcompile brings it.

The core installs without any platform SDK; a command that needs one tells the user what to
install instead of failing with an import error.
"""

from __future__ import annotations

from mlcompile.errors import Diagnostic

#: Top-level module -> (the extra that installs it, what needs it).
_EXTRA_OF: dict[str, tuple[str, str]] = {
    "kfp": ("kubeflow", "Kubeflow and Vertex AI pipelines"),
    "kfp_server_api": ("kubeflow", "Kubeflow pipelines"),
    "kubernetes": ("kubeflow", "Kubeflow pipelines"),
    "boto3": ("sagemaker", "SageMaker pipelines"),
    "botocore": ("sagemaker", "SageMaker pipelines"),
    "google_cloud_pipeline_components": ("vertex", "Vertex AI pipelines"),
    "google": ("vertex", "Vertex AI pipelines"),
    "pulumi": ("infra-aws", "Pulumi stacks (or infra-gcp, infra-azure for those clouds)"),
    "pulumi_aws": ("infra-aws", "Pulumi stacks on AWS"),
    "pulumi_gcp": ("infra-gcp", "Pulumi stacks on GCP"),
    "pulumi_azure_native": ("infra-azure", "Pulumi stacks on Azure"),
    "pulumi_kubernetes": ("infra-azure", "Pulumi stacks on Kubernetes"),
}
#: Libraries a model needs to be served or scored locally, by the framework it was saved with.
_FRAMEWORK_OF: dict[str, str] = {
    "sklearn": "scikit-learn",
    "joblib": "joblib",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "torch": "torch",
    "numpy": "numpy",
    "pandas": "pandas",
}


def missing_extra(err: ImportError) -> Diagnostic | None:
    """A diagnostic naming what to install, or None when the import error is not one of an
    optional dependency (then it is a bug of ours)."""
    name = err.name or ""
    root = name.split(".")[0]
    if root in _EXTRA_OF:
        extra, needed_by = _EXTRA_OF[root]
        return Diagnostic(
            "MLC005",
            f"{needed_by} need the Python package {name!r}, which is not installed",
            None,
            f"install the extra: pip install 'mlcompile[{extra}]' (or 'mlcompile[all]')",
        )
    if root in _FRAMEWORK_OF:
        package = _FRAMEWORK_OF[root]
        return Diagnostic(
            "MLC005",
            f"the model is read with {package!r}, which is not installed",
            None,
            f"install the library the model was saved with: pip install {package}",
        )
    return None
