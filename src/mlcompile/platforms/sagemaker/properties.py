"""What each ``Get`` of a SageMaker definition reads, and whether it fits the field it fills.

A step's properties are the response of its Describe API: DescribeProcessingJob for a
Processing step, DescribeTrainingJob, DescribeTransformJob, DescribeModel (a Model step) and
DescribeModelPackage (a RegisterModel step), as the Pipelines property reference says
(https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-propertyfile.html, "Data
dependency"; the SDK builds ``step.properties`` from the same botocore shapes). :class:`Resolver`
walks a ``Get`` path through botocore's output shape of that API, ``Parameters.<name>`` to the
parameter's type and ``Execution.<name>`` to the execution variable, and gives a :class:`Value`:
its kind (string, integer, float, boolean, or a list, structure or property file, which no
field takes as a value), and for strings a sample of the text it holds when the shape's
pattern says what that is (an S3 URI, an ARN, a name).

:func:`check` visits every expression of a definition, finds the API field it fills in the
operation's input shape (CreateProcessingJob, CreateTrainingJob, ...), and reports where the
value cannot fill it: text where a number is needed, a number where text is (``Std:Join``
renders one), or a string whose kind the field's pattern refuses, like a model package ARN as
an input's ``S3Uri``. A condition must compare values of one kind, and ``Std:JsonGet`` must
read a property file. Nothing here runs a pipeline: kinds come from botocore's service model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mlcompile.platforms.sagemaker import definition as d

Kind = Literal[
    "string",
    "integer",
    "float",
    "boolean",
    "timestamp",
    "json",
    "property-file",
    "list",
    "map",
    "structure",
    "blob",
]
#: Step type -> the Describe API response its properties are (botocore shape names).
DESCRIBE: dict[str, str] = {
    "Processing": "DescribeProcessingJobResponse",
    "Training": "DescribeTrainingJobResponse",
    "Transform": "DescribeTransformJobResponse",
    "Model": "DescribeModelOutput",
    "RegisterModel": "DescribeModelPackageOutput",
}
#: Step type -> the API its Arguments are the request of (without the job name).
REQUEST: dict[str, str] = {
    "Processing": "CreateProcessingJob",
    "Training": "CreateTrainingJob",
    "Transform": "CreateTransformJob",
    "Model": "CreateModel",
    "RegisterModel": "CreateModelPackage",
}
_PARAMETER_KINDS: dict[str, Kind] = {
    "String": "string",
    "Integer": "integer",
    "Float": "float",
    "Boolean": "boolean",
}
#: Execution variables, each with a sample of what it holds.
EXECUTION_VARIABLES: dict[str, str] = {
    "StartDateTime": "2020-01-01T00:00:00Z",
    "CurrentDateTime": "2020-01-01T00:00:00Z",
    "PipelineName": "pipeline",
    "PipelineArn": "arn:aws:sagemaker:us-east-1:111122223333:pipeline/pipeline",
    "PipelineExecutionId": "abcd1234efgh",
    "PipelineExecutionArn": (
        "arn:aws:sagemaker:us-east-1:111122223333:pipeline/pipeline/execution/abcd1234efgh"
    ),
    "TrainingJobName": "pipelines-abcd1234efgh-train-0123456789",
    "ProcessingJobName": "pipelines-abcd1234efgh-prepare-0123456789",
}
#: Text of each kind a patterned string property may hold; the first its pattern accepts is
#: its sample (a pattern that accepts :data:`_FREE_TEXT` holds any text, so has none).
_SAMPLES = (
    "s3://bucket/prefix/file",
    "arn:aws:sagemaker:us-east-1:111122223333:model-package/group/1",
    "name-1",
)
_FREE_TEXT = "any text, with spaces"
_EXPRESSIONS = ("Get", "Std:Join", "Std:JsonGet")
_TOKEN = re.compile(r"([A-Za-z0-9_]+)|\[([^\]]*)\]|(\.)")
#: Members joined by single dots, each with any number of [index] after it.
_PATH = re.compile(r"[A-Za-z0-9_]+(\[[^\]]*\])*(\.[A-Za-z0-9_]+(\[[^\]]*\])*)*")
_NUMBERS = ("integer", "float")


class Unresolved(Exception):
    """A ``Get`` that names nothing the definition or the API has; the message says why."""


@dataclass(frozen=True)
class Value:
    """What an expression holds at run time.

    ``sample`` is text of the kind a string holds (an S3 URI, an ARN), or None when it may be
    any text or is not known; ``free`` marks a value the user gives when the execution starts
    (a parameter), whose text only the service can check.
    """

    kind: Kind
    what: str
    sample: str | None = None
    free: bool = False


@dataclass(frozen=True)
class Problem:
    """One expression that names nothing (``unresolved``) or cannot fill its field
    (``mismatch``): in step ``step``, at ``field`` of its arguments."""

    step: str
    kind: Literal["unresolved", "mismatch"]
    field: str
    message: str


def service_model() -> Any:
    from mlcompile.platforms.sagemaker.validate import service_model as loaded

    return loaded()


def _matches(pattern: str | None, text: str) -> bool:
    if not pattern:
        return True
    try:
        return re.fullmatch(pattern, text, re.DOTALL) is not None
    except re.error:  # a Java-only construct: the service decides
        return True


def _string_sample(shape: Any) -> str | None:
    if shape.enum:
        return str(shape.enum[0])
    pattern = shape.metadata.get("pattern")
    if _matches(pattern, _FREE_TEXT):
        return None
    return next((s for s in _SAMPLES if _matches(pattern, s)), None)


def _kind_of(shape: Any) -> Kind:
    kind = shape.type_name
    return {"long": "integer", "double": "float"}.get(kind, kind)  # type: ignore[no-any-return]


def _literal(value: Any) -> Value:
    if isinstance(value, bool):
        return Value("boolean", repr(value), "true" if value else "false")
    if isinstance(value, int):
        return Value("integer", repr(value), str(value))
    if isinstance(value, float):
        return Value("float", repr(value), repr(value))
    if isinstance(value, str):
        return Value("string", repr(value), value)
    return Value("structure", repr(value))


def is_expression(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _EXPRESSIONS


class Resolver:
    """Resolves the expressions of one definition (its steps and parameters)."""

    def __init__(self, definition: d.Definition) -> None:
        self.steps = {s.name: s for s in definition.all_steps()}
        self.parameters = {p.name: p for p in definition.parameters}

    def get(self, path: str, reader: d.Step | None = None) -> Value:
        """What ``{"Get": path}`` holds when ``reader`` reads it; raises :class:`Unresolved`."""
        root, _, rest = path.partition(".")
        if root == "Parameters":
            param = self.parameters.get(rest)
            if param is None:
                raise Unresolved("is not a pipeline parameter")
            default = param.default
            sample = None if default is None else str(default)
            return Value(_PARAMETER_KINDS[param.type], f"parameter {rest!r}", sample, free=True)
        if root == "Execution":
            if rest not in EXECUTION_VARIABLES:
                raise Unresolved("is not an execution variable")
            return Value("string", f"execution variable {rest}", EXECUTION_VARIABLES[rest])
        if root != "Steps":
            raise Unresolved("is not a parameter, execution variable or step property")
        name, _, prop = rest.partition(".")
        target = self.steps.get(name)
        if target is None:
            raise Unresolved("is not a step of the pipeline")
        if target is reader:
            raise Unresolved("is the step itself")
        if prop.startswith("PropertyFiles."):
            file = prop.removeprefix("PropertyFiles.")
            if file not in {f.name for f in target.property_files}:
                raise Unresolved("is not a property file of that step")
            return Value("property-file", f"property file {file!r} of step {name!r}")
        if target.type not in DESCRIBE:
            raise Unresolved(f"is a property of a {target.type} step, which has none")
        return self._property(target, prop)

    def _property(self, target: d.Step, prop: str) -> Value:
        """Walk ``prop`` through the Describe response shape of ``target``'s API."""
        shape = service_model().shape_for(DESCRIBE[target.type])
        where = f"{target.type} step {target.name!r}"
        if not _PATH.fullmatch(prop):
            raise Unresolved(f"is not a property path of a {where}")
        trail: list[str] = []
        position = 0
        for match in _TOKEN.finditer(prop):
            if match.start() != position:
                raise Unresolved(f"is not a property path of a {where}")
            position = match.end()
            member, index, dot = match.groups()
            if dot:
                continue
            if member is not None:
                if shape.type_name != "structure" or member not in shape.members:
                    raise Unresolved(f"is not a property of a {where}")
                shape = shape.members[member]
                trail.append(member)
            elif shape.type_name == "list":
                self._check_key(target, trail, index)
                shape = shape.member
            elif shape.type_name == "map":
                shape = shape.value
            else:
                raise Unresolved(f"indexes {'.'.join(trail)}, which is not a list or map")
        if position != len(prop) or not trail:
            raise Unresolved(f"is not a property path of a {where}")
        what = f"{'.'.join(trail)} of {where}"
        kind = _kind_of(shape)
        if kind == "string":
            return Value("string", what, _string_sample(shape))
        return Value(kind, what)

    def _check_key(self, target: d.Step, trail: list[str], index: str) -> None:
        """A list read by name must have that item: a processing output, a metric."""
        if not (index.startswith("'") and index.endswith("'")):
            return
        key = index[1:-1]
        arguments = d.to_json(target.arguments)
        if trail == ["ProcessingOutputConfig", "Outputs"]:
            outputs = arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
            if key not in {o.get("OutputName") for o in outputs}:
                raise Unresolved("is not an output of that step")
        if trail == ["FinalMetricDataList"]:
            metrics = arguments.get("AlgorithmSpecification", {}).get("MetricDefinitions", [])
            if key not in {m.get("Name") for m in metrics}:
                raise Unresolved("is not a metric that training step defines")

    def value(self, expr: Any, reader: d.Step | None = None) -> Value:
        """What an expression (JSON) or literal holds; raises :class:`Unresolved`."""
        if not is_expression(expr):
            return _literal(expr)
        (function, body), *_ = expr.items()
        if function == "Get":
            try:
                return self.get(str(body), reader)
            except Unresolved as exc:
                raise Unresolved(f"{body!r}, which {exc}") from None
        if function == "Std:JsonGet":
            source = body.get("PropertyFile")
            if not is_expression(source) or "Get" not in source:
                raise Unresolved("a Std:JsonGet without a property file")
            file = self.value(source, reader)
            if file.kind != "property-file":
                raise Unresolved(f"a Std:JsonGet of {file.what}, which is not a property file")
            return Value("json", f"{body.get('Path')!r} of {file.what}")
        parts = [self.value(v, reader) for v in body.get("Values", [])]
        for part in parts:
            if part.kind not in ("string", "integer", "float", "boolean", "timestamp", "json"):
                raise Unresolved(f"a Std:Join of {part.what}, a {part.kind}, which is not a value")
        samples = [p.sample for p in parts]
        joined = None if None in samples else str(body.get("On", "")).join(map(str, samples))
        return Value("string", "a Std:Join", joined, any(p.free for p in parts))


def fits(value: Value, shape: Any) -> str:
    """Why ``value`` cannot fill a field of ``shape`` ("" when it can)."""
    wanted = _kind_of(shape)
    if value.kind in ("property-file", "list", "map", "structure", "blob"):
        return f"{value.what} is a {value.kind}, not a value"
    if wanted == "string":
        if value.kind in _NUMBERS or value.kind == "boolean":
            return (
                f"{value.what} is {value.kind}, and the field is a string (render it with Std:Join)"
            )
        if value.kind == "json":
            return (
                f"{value.what} is a JSON value, and the field is a string (render it with Std:Join)"
            )
        return _text_fits(value, shape)
    if wanted in ("integer", "float", "boolean"):
        accepted = {"integer": ("integer",), "float": _NUMBERS, "boolean": ("boolean",)}[wanted]
        if value.kind in accepted or value.kind == "json":
            return ""
        return f"{value.what} is {value.kind}, and the field is {wanted}"
    if wanted in ("list", "map", "structure"):
        return f"{value.what} is one value, and the field is a {wanted}"
    return ""


def _text_fits(value: Value, shape: Any) -> str:
    if value.free and value.sample is None:
        return ""  # a parameter without a default: its value is checked when it is given
    enum = shape.enum
    pattern = shape.metadata.get("pattern")
    if enum:
        if value.sample in enum:
            return ""
        return f"{value.what} is not one of {', '.join(enum)}"
    if _matches(pattern, _FREE_TEXT):
        return ""
    if value.sample is None:
        return f"{value.what} may hold any text, and the field must match {pattern}"
    if not _matches(pattern, value.sample):
        return f"{value.what} holds text like {value.sample!r}, which the field's pattern {pattern} refuses"
    return ""


def _family(value: Value) -> str:
    return "number" if value.kind in _NUMBERS else value.kind


def check(definition: d.Definition) -> list[Problem]:
    """Every expression of ``definition`` that names nothing or cannot fill its field."""
    resolver = Resolver(definition)
    problems: list[Problem] = []
    for step in definition.all_steps():
        problems.extend(_check_step(resolver, step))
    return problems


def _check_step(resolver: Resolver, step: d.Step) -> Iterator[Problem]:
    arguments = d.to_json(step.arguments)
    if step.type == "Condition":
        for condition in arguments.get("Conditions", []):
            yield from _check_condition(resolver, step, condition)
        return
    shape = None
    if step.type in REQUEST:
        shape = service_model().operation_model(REQUEST[step.type]).input_shape
    yield from _walk(resolver, step, arguments, shape, "")


def _walk(resolver: Resolver, step: d.Step, value: Any, shape: Any, path: str) -> Iterator[Problem]:
    if is_expression(value):
        try:
            found = resolver.value(value, step)
        except Unresolved as exc:
            yield Problem(step.name, "unresolved", path, str(exc))
            return
        problem = fits(found, shape) if shape is not None else ""
        if problem:
            yield Problem(step.name, "mismatch", path, problem)
        return
    kind = shape.type_name if shape is not None else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            member = None
            if kind == "structure":
                member = shape.members.get(key)
            elif kind == "map":
                member = shape.value
            yield from _walk(resolver, step, item, member, f"{path}.{key}".lstrip("."))
    elif isinstance(value, list):
        member = shape.member if kind == "list" else None
        for index, item in enumerate(value):
            yield from _walk(resolver, step, item, member, f"{path}[{index}]")


def _check_condition(resolver: Resolver, step: d.Step, condition: Any) -> Iterator[Problem]:
    kind = condition.get("Type")
    if kind == "Not":
        inner = condition.get("Condition", condition.get("Expression"))
        yield from _check_condition(resolver, step, inner)
        return
    if kind == "Or":
        for inner in condition.get("Conditions", []):
            yield from _check_condition(resolver, step, inner)
        return
    sides: list[Value] = []
    for side in ("LeftValue", "RightValue"):
        try:
            sides.append(resolver.value(condition.get(side), step))
        except Unresolved as exc:
            yield Problem(step.name, "unresolved", f"{kind}.{side}", str(exc))
    if len(sides) != 2:
        return
    for found in sides:
        if found.kind in ("property-file", "list", "map", "structure", "blob"):
            message = f"it compares {found.what}, a {found.kind}, which is not a value"
            yield Problem(step.name, "mismatch", str(kind), message)
            return
    families = {_family(s) for s in sides} - {"json"}  # a JSON value may be of either kind
    if len(families) > 1:
        message = (
            f"it compares {sides[0].what} ({sides[0].kind}) with {sides[1].what} "
            f"({sides[1].kind}); SageMaker compares values of one kind only"
        )
        yield Problem(step.name, "mismatch", str(kind), message)
