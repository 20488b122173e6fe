"""The pipeline IR: models, canonical JSON and hashing, walking, validation."""

from mlcompile.ir.canonical import canonical_json, content_hash
from mlcompile.ir.nodes import Pipeline

__all__ = ["Pipeline", "canonical_json", "content_hash"]
