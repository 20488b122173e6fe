"""Artifact classes: annotations in a step's signature, and the objects a step receives at run time.

``Input[Dataset]`` in a signature means "a Dataset this step reads"; when the step runs it receives
a :class:`Dataset` whose ``path`` is a local file or folder. This module is stdlib-only: the step
runtime imports it inside every platform's container.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any, TypeVar


class Artifact:
    """A file or folder produced by one step and consumed by others."""

    type_name = "Artifact"

    def __init__(self, path: str, uri: str = "", metadata: dict[str, Any] | None = None) -> None:
        self.path = path
        self.uri = uri or path
        self.metadata: dict[str, Any] = dict(metadata or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r})"


class Dataset(Artifact):
    type_name = "Dataset"


class Model(Artifact):
    type_name = "Model"


class RegisteredModel(Artifact):
    """A model version in a registry; ``metadata`` holds its name and version."""

    type_name = "RegisteredModel"


class Metrics(Artifact):
    """Named numbers, stored as a JSON object at ``path``; conditions can read them by key."""

    type_name = "Metrics"

    def log_metric(self, name: str, value: float) -> None:
        values = self.read()
        values[name] = float(value)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(values, f, sort_keys=True)

    def read(self) -> dict[str, float]:
        if not os.path.exists(self.path):
            return {}
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        return {str(k): float(v) for k, v in data.items()}


ARTIFACT_CLASSES: dict[str, type[Artifact]] = {
    cls.type_name: cls for cls in (Artifact, Dataset, Model, RegisteredModel, Metrics)
}


class _Direction:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


INPUT = _Direction("Input")
OUTPUT = _Direction("Output")

A = TypeVar("A", bound=Artifact)

#: ``Input[Dataset]``: an artifact the step reads. At run time the step receives a ``Dataset``.
Input = Annotated[A, INPUT]
#: ``Output[Model]``: an artifact the step writes to ``model.path``.
Output = Annotated[A, OUTPUT]
