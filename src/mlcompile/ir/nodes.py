"""The pipeline IR: frozen pydantic models that every compiler, the runner and infra read.

The IR is a tree. A :class:`Pipeline` holds typed parameters, the components its tasks call
(keyed by name), and a body of nodes: a :class:`Task` calls a component, a :class:`Condition`
holds a ``then`` and an optional ``otherwise`` body, a :class:`Loop` fans a body out over items.
Values flowing into a task are one of the ``*Ref`` models or a :class:`Literal`.
Every node carries the source location of the user's code that made it.
"""

from __future__ import annotations

from typing import Annotated, Any
from typing import Literal as TypingLiteral

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from mlcompile.errors import SourceLocation

IR_VERSION = "1"

#: Parameter types a step or pipeline may declare, and artifact types.
PARAMETER_TYPES = ("int", "float", "str", "bool", "list", "dict")
ARTIFACT_TYPES = ("Dataset", "Model", "Metrics", "Artifact", "RegisteredModel")


def is_artifact_type(type_name: str) -> bool:
    return element_type(type_name) in ARTIFACT_TYPES


def is_list_of(type_name: str) -> bool:
    """True for a list of artifacts (``list[Model]``), as fan-in produces."""
    return type_name.startswith("list[")


def element_type(type_name: str) -> str:
    return type_name[5:-1] if is_list_of(type_name) else type_name


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Location(Node):
    """A file relative to the pipeline's project root, and a line in it."""

    file: str
    line: int

    def source(self) -> SourceLocation:
        """The same place, as diagnostics carry it."""
        return SourceLocation(self.file, self.line)


# ----- values -------------------------------------------------------------------------------


class Literal(Node):
    kind: TypingLiteral["literal"] = "literal"
    value: Any


class ParamRef(Node):
    """A parameter of the enclosing pipeline."""

    kind: TypingLiteral["param"] = "param"
    name: str


class OutputRef(Node):
    """An output of a task in the same or an enclosing scope."""

    kind: TypingLiteral["output"] = "output"
    task: str
    output: str


class LoopItemRef(Node):
    """The current item of an enclosing loop, or one key of it when items are dicts."""

    kind: TypingLiteral["loop_item"] = "loop_item"
    loop: str
    key: str | None = None


class CollectedRef(Node):
    """Fan-in: every value a task inside a loop produced, in item order, as a list."""

    kind: TypingLiteral["collected"] = "collected"
    task: str
    output: str


class OneOfRef(Node):
    """Whichever branch of an if/else produced a value (exactly one of them ran)."""

    kind: TypingLiteral["one_of"] = "one_of"
    options: tuple[OutputRef, ...]


class MetricRef(Node):
    """A number read from a task's Metrics artifact by key, usable in conditions."""

    kind: TypingLiteral["metric"] = "metric"
    task: str
    output: str
    key: str


#: The type of a final step's input that receives the run's status (``status: RunStatus``).
RUN_STATUS = "RunStatus"


class RunStatusRef(Node):
    """How the run's other steps ended, given to the final step (KFP's taskFinalStatus)."""

    kind: TypingLiteral["run_status"] = "run_status"


class TemplateRef(Node):
    """A string built at run time from literal text and values."""

    kind: TypingLiteral["template"] = "template"
    parts: tuple[str | ScalarValue, ...]


ScalarValue = Annotated[
    Literal | ParamRef | OutputRef | LoopItemRef | MetricRef | OneOfRef,
    Field(discriminator="kind"),
]
Value = Annotated[
    Literal
    | ParamRef
    | OutputRef
    | LoopItemRef
    | CollectedRef
    | OneOfRef
    | MetricRef
    | RunStatusRef
    | TemplateRef,
    Field(discriminator="kind"),
]


# ----- conditions ---------------------------------------------------------------------------

CompareOp = TypingLiteral["==", "!=", "<", "<=", ">", ">="]


class Compare(Node):
    kind: TypingLiteral["compare"] = "compare"
    op: CompareOp
    left: Value
    right: Value


class AllOf(Node):
    kind: TypingLiteral["and"] = "and"
    operands: tuple[ConditionExpr, ...]


class AnyOf(Node):
    kind: TypingLiteral["or"] = "or"
    operands: tuple[ConditionExpr, ...]


class Not(Node):
    kind: TypingLiteral["not"] = "not"
    operand: ConditionExpr


ConditionExpr = Annotated[Compare | AllOf | AnyOf | Not, Field(discriminator="kind")]


# ----- step options -------------------------------------------------------------------------


class Resources(Node):
    """Normalised requests: cores, bytes, a GPU count and type (as the user spelt it). A limit
    is set only when it is above its request (``cpu_limit``, ``memory_limit_bytes``); else the
    limit is the request."""

    cpu: float | None = None
    memory_bytes: int | None = None
    gpu: int = 0
    gpu_type: str | None = None
    disk_bytes: int | None = None
    cpu_limit: float | None = None
    memory_limit_bytes: int | None = None

    @model_serializer(mode="wrap")
    def _without_absent_limits(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Resources without separate limits serialise as before limits existed, so the
        canonical JSON and content hash of every pipeline that sets none stay the same."""
        data = handler(self)
        if isinstance(data, dict):
            for key in ("cpu_limit", "memory_limit_bytes"):
                if data.get(key) is None:
                    data.pop(key, None)
        return data


class Retry(Node):
    count: int = 0
    backoff_seconds: int | None = None
    backoff_factor: float | None = None
    max_backoff_seconds: int | None = None


class SecretRef(Node):
    """A secret by reference: its name in the platform's store, never its value."""

    name: Literal | ParamRef | OutputRef
    env: str
    key: str | None = None


StepRole = TypingLiteral["processing", "training"]


#: A platform option given by a pipeline parameter is held as ``{PARAMETER_MARKER: name, "type":
#: type}`` in ``platform_options``; a platform maps it to a run-time value where its spec has one
#: (SageMaker's ``Get Parameters.<name>``) and refuses it where not.
PARAMETER_MARKER = "mlcompile_parameter"


def option_parameter(value: object) -> str | None:
    """The pipeline parameter a platform option names, or None for a literal option."""
    if isinstance(value, dict) and isinstance(value.get(PARAMETER_MARKER), str):
        return str(value[PARAMETER_MARKER])
    return None


class StepOptions(Node):
    #: The image: literal, or (a container step's) a pipeline parameter's value at run time.
    image: str | ParamRef | None = None
    packages: tuple[str, ...] = ()
    resources: Resources = Resources()
    retry: Retry = Retry()
    cache: bool = True
    timeout_seconds: int | None = None
    #: Environment variables: literal text, or a pipeline parameter's value at run time.
    env: dict[str, str | ParamRef] = {}
    secrets: tuple[SecretRef, ...] = ()
    display_name: str | None = None
    role: StepRole = "processing"
    platform_options: dict[str, dict[str, Any]] = {}
    #: The media type of an artifact input, by input name (a training job's channel ContentType).
    content_types: dict[str, str] = {}

    @model_serializer(mode="wrap")
    def _without_absent_content_types(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Options without content types serialise as before they existed, so the canonical
        JSON and content hash of every pipeline that sets none stay the same."""
        data = handler(self)
        if isinstance(data, dict) and not data.get("content_types"):
            data.pop("content_types", None)
        return data


# ----- components ---------------------------------------------------------------------------


class Port(Node):
    name: str
    type: str
    default: Any = None
    has_default: bool = False


class FunctionCode(Node):
    """A Python function in one of the pipeline's source files; ``sha256`` covers that file
    and every project file it imports, so a change to a helper module changes the step."""

    file: str
    function: str
    sha256: str


class Placeholder(Node):
    """In a container command: an input's value or path, or an output's path."""

    kind: TypingLiteral["input_value", "input_path", "output_path"]
    name: str


class ContainerSpec(Node):
    image: str
    command: tuple[tuple[str | Placeholder, ...], ...] = ()
    args: tuple[tuple[str | Placeholder, ...], ...] = ()


BuiltinOp = TypingLiteral[
    "import_artifact", "register_model", "deploy_model", "batch_predict", "fail"
]


# ----- monitoring ---------------------------------------------------------------------------

FeatureKind = TypingLiteral["number", "category"]
DriftStatistic = TypingLiteral["psi", "ks", "chi2", "missing"]


class MonitoredFeature(Node):
    name: str
    kind: FeatureKind


class DriftAction(Node):
    """What a monitor does when a threshold is crossed: alert, or run the pipeline again with
    ``params`` (``approval`` is the status the new model version is registered with)."""

    action: TypingLiteral["alert", "retrain"]
    params: dict[str, Any] = {}
    approval: str | None = None


class Monitor(Node):
    """Drift monitoring of a deployed endpoint's requests against a baseline data set.

    ``baseline`` None means the data set the deployed model was trained on; ``statistics``
    maps a feature kind to the statistics computed for it; ``thresholds`` maps a statistic to
    the value that counts as drift (PSI and KS distance above, chi-squared p-value below,
    missing rate above).
    """

    features: tuple[MonitoredFeature, ...]
    statistics: dict[str, tuple[DriftStatistic, ...]]
    thresholds: dict[str, float]
    check_schema: bool = True
    schedule: str
    baseline: OutputRef | None = None
    on_drift: DriftAction
    location: Location


class Builtin(Node):
    """A portable ML operation; each platform maps it to its native service."""

    op: BuiltinOp
    config: dict[str, Any] = {}
    monitor: Monitor | None = None

    @model_serializer(mode="wrap")
    def _without_absent_monitor(self, handler: SerializerFunctionWrapHandler) -> Any:
        """An endpoint without a monitor serialises as before monitors existed, so the canonical
        JSON and content hash of every pipeline that does not declare one stay the same."""
        data = handler(self)
        if isinstance(data, dict) and data.get("monitor") is None:
            data.pop("monitor", None)
        return data


ComponentKind = TypingLiteral["function", "container", "pipeline", "builtin"]


class Component(Node):
    name: str
    kind: ComponentKind
    description: str = ""
    inputs: tuple[Port, ...] = ()
    outputs: tuple[Port, ...] = ()
    location: Location
    function: FunctionCode | None = None
    container: ContainerSpec | None = None
    pipeline: Pipeline | None = None
    builtin: Builtin | None = None

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)


# ----- the DAG ------------------------------------------------------------------------------


class Task(Node):
    kind: TypingLiteral["task"] = "task"
    name: str
    component: str
    inputs: dict[str, Value] = {}
    options: StepOptions = StepOptions()
    after: tuple[str, ...] = ()
    location: Location


class Condition(Node):
    kind: TypingLiteral["condition"] = "condition"
    id: str
    condition: ConditionExpr
    then: tuple[BodyNode, ...]
    otherwise: tuple[BodyNode, ...] | None = None
    location: Location


class Loop(Node):
    kind: TypingLiteral["loop"] = "loop"
    id: str
    items: Literal | ParamRef | OutputRef
    item_type: str
    parallelism: int | None = None
    body: tuple[BodyNode, ...]
    location: Location


BodyNode = Annotated[Task | Condition | Loop, Field(discriminator="kind")]


class Schedule(Node):
    cron: str
    timezone: str = "UTC"


class PipelineOutput(Node):
    name: str
    type: str
    source: Value


class SourceFile(Node):
    """A project file step code runs from, and the project files it imports (relative paths),
    so a platform ships a step with the local modules it needs."""

    sha256: str
    text: str
    imports: tuple[str, ...] = ()


class Pipeline(Node):
    ir_version: str = IR_VERSION
    name: str
    description: str = ""
    parameters: tuple[Port, ...] = ()
    outputs: tuple[PipelineOutput, ...] = ()
    schedule: Schedule | None = None
    components: dict[str, Component] = {}
    body: tuple[BodyNode, ...] = ()
    final: Task | None = None
    sources: dict[str, SourceFile] = {}
    location: Location

    def parameter(self, name: str) -> Port | None:
        return next((p for p in self.parameters if p.name == name), None)


for _model in (TemplateRef, AllOf, AnyOf, Not, Component, Condition, Loop, Pipeline):
    _model.model_rebuild()
