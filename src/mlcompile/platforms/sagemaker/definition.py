"""The SageMaker pipeline definition (format 2020-12-01) as typed models.

The shapes follow what the SageMaker SDK emits and the service accepts: top-level ``Version``,
``Metadata``, ``Parameters`` and ``Steps``; each step has ``Name``, ``Type``, ``Arguments`` and
optional ``DependsOn``, ``DisplayName``, ``Description``, ``RetryPolicies``, ``CacheConfig`` and
``PropertyFiles``. Values inside arguments may be run-time expressions (``Get``, ``Std:Join``,
``Std:JsonGet``). Job-step ``Arguments`` are the request of the step's AWS API without the job
name: botocore's service model is their type, and :mod:`.validate` checks them against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

VERSION = "2020-12-01"

ParameterType = Literal["String", "Integer", "Float", "Boolean"]
StepType = Literal[
    "Processing", "Training", "Transform", "Model", "RegisterModel", "Condition", "Fail"
]
BinaryCondition = Literal[
    "Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo"
]


# ----- expressions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Get:
    """A run-time reference: ``Parameters.x``, ``Steps.s.<property>``, ``Execution.x``."""

    path: str


@dataclass(frozen=True)
class Join:
    """``Std:Join``: values rendered as strings and joined, resolved at run time."""

    on: str
    values: tuple[Expr, ...]


@dataclass(frozen=True)
class JsonGet:
    """``Std:JsonGet``: a value read from a step's property file (a JSON file it wrote)."""

    step: str
    property_file: str
    path: str


Expr = str | int | float | bool | Get | Join | JsonGet


def as_string(value: Expr) -> Expr:
    """The value rendered as a string where the API wants one (as the SDK's ``to_string``)."""
    if isinstance(value, str | Join):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return Join("", (value,))


# ----- step parts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyFile:
    name: str
    output_name: str
    file_path: str


@dataclass(frozen=True)
class RetryPolicy:
    exception_types: tuple[str, ...]
    max_attempts: int
    interval_seconds: int = 1
    backoff_rate: float = 2.0


@dataclass(frozen=True)
class CacheConfig:
    enabled: bool
    expire_after: str | None = None


@dataclass(frozen=True)
class Compare:
    type: BinaryCondition
    left: Expr
    right: Expr


@dataclass(frozen=True)
class NotCondition:
    operand: Condition


@dataclass(frozen=True)
class OrCondition:
    operands: tuple[Condition, ...]


Condition = Compare | NotCondition | OrCondition


@dataclass(frozen=True)
class Step:
    """One step. For a Condition step, ``arguments`` holds the conditions and the branches
    hold full steps (which must not also appear at the top level)."""

    name: str
    type: StepType
    arguments: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()
    display_name: str | None = None
    description: str | None = None
    retry_policies: tuple[RetryPolicy, ...] = ()
    cache: CacheConfig | None = None
    property_files: tuple[PropertyFile, ...] = ()
    #: Where the user wrote the code this step came from ("file:line"); not emitted.
    origin: tuple[str, int] | None = field(default=None, compare=False)

    def children(self) -> tuple[Step, ...]:
        if self.type != "Condition":
            return ()
        return (*self.arguments["IfSteps"], *self.arguments["ElseSteps"])


@dataclass(frozen=True)
class Parameter:
    name: str
    type: ParameterType
    default: str | int | float | bool | None = None


@dataclass(frozen=True)
class Definition:
    parameters: tuple[Parameter, ...]
    steps: tuple[Step, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)

    def all_steps(self) -> list[Step]:
        """Every step, branches included, depth first in definition order."""
        out: list[Step] = []

        def visit(steps: Sequence[Step]) -> None:
            for step in steps:
                out.append(step)
                visit(step.children())

        visit(self.steps)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "Version": VERSION,
            "Metadata": dict(self.metadata),
            "Parameters": [_parameter(p) for p in self.parameters],
            "Steps": [step_json(s) for s in self.steps],
        }


# ----- to JSON -------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """Arguments with expressions and nested models rendered as definition JSON."""
    if isinstance(value, Get):
        return {"Get": value.path}
    if isinstance(value, Join):
        return {"Std:Join": {"On": value.on, "Values": [to_json(v) for v in value.values]}}
    if isinstance(value, JsonGet):
        ref = {"Get": f"Steps.{value.step}.PropertyFiles.{value.property_file}"}
        return {"Std:JsonGet": {"PropertyFile": ref, "Path": value.path}}
    if isinstance(value, Step):
        return step_json(value)
    if isinstance(value, Compare | NotCondition | OrCondition):
        return _condition(value)
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def _parameter(p: Parameter) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": p.name, "Type": p.type}
    if p.default is not None:
        out["DefaultValue"] = p.default
    return out


def _condition(c: Condition) -> dict[str, Any]:
    if isinstance(c, Compare):
        return {"Type": c.type, "LeftValue": to_json(c.left), "RightValue": to_json(c.right)}
    if isinstance(c, NotCondition):
        # "Condition", not "Expression": CreatePipeline rejects the latter ("unknown property
        # 'Expression'", https://github.com/aws/sagemaker-python-sdk/issues/2746).
        return {"Type": "Not", "Condition": _condition(c.operand)}
    return {"Type": "Or", "Conditions": [_condition(o) for o in c.operands]}


def step_json(s: Step) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": s.name, "Type": s.type, "Arguments": to_json(s.arguments)}
    if s.depends_on:
        out["DependsOn"] = list(s.depends_on)
    if s.display_name:
        out["DisplayName"] = s.display_name
    if s.description:
        out["Description"] = s.description
    if s.retry_policies:
        out["RetryPolicies"] = [
            {
                "BackoffRate": r.backoff_rate,
                "IntervalSeconds": r.interval_seconds,
                "MaxAttempts": r.max_attempts,
                "ExceptionType": list(r.exception_types),
            }
            for r in s.retry_policies
        ]
    if s.cache is not None:
        cache: dict[str, Any] = {"Enabled": s.cache.enabled}
        if s.cache.expire_after:
            cache["ExpireAfter"] = s.cache.expire_after
        out["CacheConfig"] = cache
    if s.property_files:
        out["PropertyFiles"] = [
            {"PropertyFileName": p.name, "OutputName": p.output_name, "FilePath": p.file_path}
            for p in s.property_files
        ]
    return out
