"""Kubeflow Pipelines: KFP v2 IR with a Kubernetes platform document, and recurring runs."""

from mlcompile.platforms.kubeflow.platform import PLATFORM, KubeflowPlatform

__all__ = ["PLATFORM", "KubeflowPlatform"]
