"""Vertex AI Pipelines: KFP v2 IR with Vertex-native training, model registry and serving, and
the PipelineJob request that runs it."""

from mlcompile.platforms.vertex.platform import PLATFORM, VertexPlatform

__all__ = ["PLATFORM", "VertexPlatform"]
