"""Artifact classes: annotations in a step's signature, and the objects a step receives at run time.

``Input[Dataset]`` in a signature means "a Dataset this step reads"; when the step runs it receives
a :class:`Dataset` whose ``path`` is a local file or folder. This module is stdlib-only: the step
runtime imports it inside every platform's container, on Python 3.8 and later: where
``typing.Annotated`` is missing (3.8), ``Input``/``Output`` are a small stand-in with the same
``__origin__``/``__metadata__`` shape, read by :func:`artifact_annotation`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, TypeVar


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
    """A trained model. ``save(obj)`` writes it in its framework's own format (scikit-learn,
    XGBoost, LightGBM, PyTorch as TorchScript) with a record of the framework, which every
    platform's loader and serving handler reads; ``load()`` reads it back."""

    type_name = "Model"

    def save(
        self,
        model: Any,
        framework: str | None = None,
        feature_names: list[str] | None = None,
    ) -> None:
        """Write ``model`` to this artifact's folder; the framework is found from the model's
        class unless given. ``feature_names`` are the columns, in order, of a model that does
        not record them (a TorchScript module), so rows are matched to it by name."""
        from mlcompile.runtime import frameworks  # the framework is imported only here

        record = frameworks.save(model, self.path, framework, feature_names)
        self.metadata.update(
            {"framework": record["framework"], "framework_version": record["framework_version"]}
        )

    def load(self) -> Any:
        """The model, loaded with the framework it was saved with (a pickle without a record)."""
        from pathlib import Path

        from mlcompile.runtime import frameworks

        return frameworks.load(Path(self.path))


class RegisteredModel(Artifact):
    """A model version in a registry; ``metadata`` holds its name and version."""

    type_name = "RegisteredModel"


class Metrics(Artifact):
    """Named numbers, stored as a JSON object at ``path``; conditions can read them by key.

    A dot in a key is a path into nested objects on every platform, as SageMaker's JsonGet reads
    it: ``metrics["regression_metrics.mse.value"]`` is ``{"regression_metrics": {"mse": {"value":
    ...}}}``, the evaluation file of the platforms' own samples. ``log_metric("a.b", x)`` writes
    the same nesting, so what a step logs and what a condition reads always agree.
    """

    type_name = "Metrics"

    def log_metric(self, name: str, value: float) -> None:
        data = self._load()
        *parents, leaf = name.split(".")
        node = data
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = float(value)
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as f:
            json.dump(data, f, sort_keys=True)

    def read(self) -> dict[str, float]:
        """Every number in the file, nested ones under their dotted path."""
        found: dict[str, float] = {}
        _flatten(self._load(), "", found)
        return found

    def get(self, key: str) -> float:
        """The number at the dotted path ``key``; a KeyError that lists what the file has."""
        node: Any = self._load()
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                known = ", ".join(sorted(self.read())) or "nothing"
                raise KeyError(f"no metric {key!r} (it logged: {known})")
            node = node[part]
        if isinstance(node, bool) or not isinstance(node, (int, float)):
            raise KeyError(f"metric {key!r} is {json.dumps(node)[:60]}, not a number")
        return float(node)

    def _load(self) -> dict[str, Any]:
        if not os.path.exists(self.path):
            return {}
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError(f"{self.path} holds {type(data).__name__}, not a JSON object")
        return data


def _flatten(node: dict[str, Any], prefix: str, found: dict[str, float]) -> None:
    for key, value in node.items():
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{key}.", found)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            found[f"{prefix}{key}"] = float(value)


class RunStatus:
    """How the run went, for the ``final()`` step: annotate a parameter ``status: RunStatus``
    and final() fills it in. ``state`` is ``SUCCEEDED``, ``FAILED`` or ``CANCELLED``;
    ``error_message`` says what failed. The shape of KFP's PipelineTaskFinalStatus, which
    Kubeflow and Vertex pass; the local runner and emulators pass the same."""

    def __init__(
        self, state: str, error_message: str = "", error_code: int = 0, task_name: str = ""
    ) -> None:
        self.state = state
        self.error_message = error_message
        self.error_code = error_code
        self.task_name = task_name

    @property
    def succeeded(self) -> bool:
        return self.state == "SUCCEEDED"

    @classmethod
    def from_value(cls, value: Any) -> RunStatus:
        """From the platform's struct (camelCase keys, or the snake_case kfp's runner uses)."""
        data = json.loads(value) if isinstance(value, str) else dict(value or {})
        error = data.get("error") or {}
        return cls(
            str(data.get("state") or "SUCCEEDED"),
            str(error.get("message") or ""),
            int(error.get("code") or 0),
            str(data.get("pipelineTaskName") or data.get("pipeline_task_name") or ""),
        )

    def __repr__(self) -> str:
        return f"RunStatus(state={self.state!r}, error_message={self.error_message!r})"


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


class _Marked:
    """``Input[X]`` on Python 3.8: ``X`` with a direction, shaped like ``Annotated[X, INPUT]``."""

    def __init__(self, origin: Any, direction: _Direction) -> None:
        self.__origin__ = origin
        self.__metadata__ = (direction,)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # typing accepts only callables
        raise TypeError(f"{self!r} is an annotation, not a class")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Marked) and (self.__origin__, self.__metadata__) == (
            other.__origin__,
            other.__metadata__,
        )

    def __hash__(self) -> int:
        return hash((id(self.__origin__), self.__metadata__[0].name))

    def __repr__(self) -> str:
        return f"{self.__metadata__[0]}[{getattr(self.__origin__, '__name__', self.__origin__)}]"


class _Marker:
    def __init__(self, direction: _Direction) -> None:
        self._direction = direction

    def __getitem__(self, item: Any) -> _Marked:
        return _Marked(item, self._direction)


if TYPE_CHECKING or sys.version_info >= (3, 9):
    from typing import Annotated  # novermin: imported only where it exists

    #: ``Input[Dataset]``: an artifact the step reads. At run time the step receives a ``Dataset``.
    Input = Annotated[A, INPUT]
    #: ``Output[Model]``: an artifact the step writes to ``model.path``.
    Output = Annotated[A, OUTPUT]
else:
    Input = _Marker(INPUT)
    Output = _Marker(OUTPUT)


def artifact_annotation(annotation: Any) -> tuple[Any, _Direction] | None:
    """(the annotated type, INPUT or OUTPUT) for ``Input[X]``/``Output[X]``, else None."""
    metadata = getattr(annotation, "__metadata__", None)
    if not metadata:
        return None
    direction = next((m for m in metadata if m is INPUT or m is OUTPUT), None)
    if direction is None:
        return None
    return annotation.__origin__, direction
