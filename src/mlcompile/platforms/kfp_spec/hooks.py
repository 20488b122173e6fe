"""What a KFP-IR platform decides for itself: the executor of each step and its platform config.

The shared lowering turns the IR's graph into a PipelineSpec the same way for every backend that
runs KFP IR; Kubeflow and Vertex differ only in how a leaf step runs (their executors, builtin
operations, platform documents), which they supply through :class:`Hooks`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from mlcompile.ir import nodes as ir

#: Operations the lowering adds itself: reading a metric so a condition can compare it.
SyntheticOp = Literal["read_metric"]

#: A template input: literal text and ``{"input": name}`` slots the step's runtime fills.
TemplateParts = list[str | dict[str, str]]


@dataclass(frozen=True)
class Step:
    """One leaf task as its platform sees it when writing the executor."""

    key: str
    task: ir.Task
    component: ir.Component
    #: The builtin operation (``register_model``, ``read_metric``, ...), or None for user code.
    op: str | None
    #: Inputs built from text and values at run time (f-strings), by input name.
    templates: Mapping[str, TemplateParts]
    #: The root pipeline's source files, by path relative to the project root.
    sources: Mapping[str, ir.SourceFile]
    #: The InputParameterSpec that reads a parameter value from this task's DAG.
    resolve: Callable[[ir.Value], dict[str, Any]]


class Hooks(Protocol):
    def executor(self, step: Step) -> dict[str, Any]:
        """The ExecutorSpec (``{"container": ...}`` or ``{"importer": ...}``) for the step."""
        ...

    def platform_config(self, step: Step) -> dict[str, Any] | None:
        """The step's entry in the platform document (e.g. KubernetesExecutorConfig), if any."""
        ...
