"""What a KFP-IR platform decides for itself: the executor of each step and its platform config.

The shared lowering turns the IR's graph into a PipelineSpec the same way for every backend that
runs KFP IR; Kubeflow and Vertex differ only in how a leaf step runs (their executors, builtin
operations, platform documents), which they supply through :class:`Hooks`.

A hook usually returns a plain ExecutorSpec for the step's derived interface. A vendor component
(a launcher taking extra inputs with defaults) is a :class:`Leaf` with its own interface, and a
step that runs as several tasks is a :class:`Composite`: a DAG component with the step's
interface, so the tasks consuming the step are lowered exactly as for any other step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

from mlcompile.ir import nodes as ir

#: Operations the lowering adds itself: reading a metric so a condition can compare it.
SyntheticOp = Literal["read_metric"]

#: A template input: literal text and ``{"input": name}`` slots the step's runtime fills.
TemplateParts = list[str | dict[str, str]]

#: The input an environment variable given by a pipeline parameter reaches the step in.
ENV_SLOT = "mlcompile_env_{}"
#: The input a container step's image given by a pipeline parameter arrives in: the image is
#: a placeholder of it, as kfp's ``set_container_image(<parameter>)`` compiles.
IMAGE_SLOT = "mlcompile_image"


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
    #: Environment variables given by pipeline parameters: variable -> the input carrying it.
    env_inputs: Mapping[str, str]
    #: The root pipeline's source files, by path relative to the project root.
    sources: Mapping[str, ir.SourceFile]
    #: The InputParameterSpec that reads a parameter value from this task's DAG.
    resolve: Callable[[ir.Value], dict[str, Any]]
    #: The component interface the lowering derived: inputDefinitions and outputDefinitions.
    interface: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Leaf:
    """A leaf component the platform writes whole, e.g. a vendor launcher whose interface adds
    inputs (with defaults) and outputs to the step's own. ``task_inputs`` are parameters the
    task passes beyond the step's inputs (read with :attr:`Step.resolve`), for inputs the
    platform added to the interface. ``input_keys`` and ``output_keys`` rename inputs and
    outputs of the step's interface in the leaf's (where a launcher already has the name): the
    task passes the inputs, and consumers read the outputs, under the new keys."""

    name: str
    interface: dict[str, Any]
    executor: dict[str, Any]
    task_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The step runs mlcompile's runtime: the lowering gives it the code bundle as the input
    #: artifact ``CODE_INPUT``, read from the pipeline's one importer of the bundle.
    code: bool = False
    #: Input key in the step's derived interface -> its key in this leaf's interface.
    input_keys: Mapping[str, str] = field(default_factory=dict)
    #: Output key in the step's derived interface -> its key in this leaf's interface.
    output_keys: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Composite:
    """A step run as several tasks: a DAG component with ``interface`` (the step's, or one with
    retyped inputs). ``tasks`` refer to ``leaves`` by name in ``componentRef``; ``outputs`` maps
    each output key of the step to the (task, output key) that produces it."""

    interface: dict[str, Any]
    tasks: dict[str, dict[str, Any]]
    leaves: tuple[Leaf, ...]
    outputs: dict[str, tuple[str, str]]
    #: As a Leaf's: parameters the step's task passes to inputs the platform added.
    task_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)


#: What a platform writes for a step: an ExecutorSpec for the derived interface, or more.
Executor: TypeAlias = dict[str, Any] | Leaf | Composite


class Hooks(Protocol):
    def executor(self, step: Step) -> Executor:
        """The ExecutorSpec (``{"container": ...}`` or ``{"importer": ...}``) for the step, or a
        whole component for it."""
        ...

    def platform_config(self, step: Step) -> dict[str, Any] | None:
        """The step's entry in the platform document (e.g. KubernetesExecutorConfig), if any."""
        ...
