"""Compile-time checks of a definition, so problems surface before SageMaker sees it.

Four rules, each a located diagnostic: step and parameter names follow SageMaker's pattern and
are unique (MLC402); every ``Get`` names a parameter, execution variable, step, property file,
output or metric that exists (MLC404), and every expression holds what the field it fills takes
(:mod:`.properties`, MLC403); every job step's ``Arguments`` is a valid request of its AWS API
in botocore's SageMaker service model, including the length, pattern and enum rules botocore's
own validator skips (MLC403). botocore is imported here only, when compiling for SageMaker.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from mlcompile.errors import DiagnosticSink, SourceLocation
from mlcompile.platforms.sagemaker import definition as d
from mlcompile.platforms.sagemaker.properties import Problem
from mlcompile.platforms.sagemaker.properties import check as check_expressions

NAME = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
PLATFORM = "sagemaker"
#: Step type -> (API operation, the job-name member pipelines fill in, Describe output shape).
OPERATIONS: dict[str, tuple[str, str | None, str]] = {
    "Processing": ("CreateProcessingJob", "ProcessingJobName", "DescribeProcessingJobResponse"),
    "Training": ("CreateTrainingJob", "TrainingJobName", "DescribeTrainingJobResponse"),
    "Transform": ("CreateTransformJob", "TransformJobName", "DescribeTransformJobResponse"),
    "Model": ("CreateModel", "ModelName", "DescribeModelOutput"),
    "RegisterModel": ("CreateModelPackage", None, "DescribeModelPackageOutput"),
}
_EXPRESSIONS = ("Get", "Std:Join", "Std:JsonGet")


@functools.lru_cache(maxsize=1)
def service_model() -> Any:
    """botocore's SageMaker service model (about 0.3 s to load, no network)."""
    import botocore.session

    return botocore.session.get_session().get_service_model("sagemaker")


def validate(definition: d.Definition, sink: DiagnosticSink) -> None:
    steps = definition.all_steps()
    by_name: dict[str, d.Step] = {}
    for step in steps:
        where = _where(step)
        if not NAME.match(step.name):
            _error(
                sink,
                "MLC402",
                f"SageMaker step name {step.name!r} breaks the rule ^[A-Za-z0-9\\-_]{{1,64}}$",
                where,
                "shorten the step (or nested pipeline) name, or rename it",
                step.name,
            )
        if step.name in by_name:
            _error(
                sink,
                "MLC402",
                f"two SageMaker steps are named {step.name!r}",
                where,
                "rename one of the steps so the unrolled or inlined names differ",
                step.name,
            )
        by_name.setdefault(step.name, step)
    for param in definition.parameters:
        if not NAME.match(param.name):
            _error(
                sink,
                "MLC402",
                f"SageMaker parameter name {param.name!r} breaks ^[A-Za-z0-9\\-_]{{1,64}}$",
                None,
                "rename the pipeline parameter",
                None,
            )
    # A step already reported (say, a missing serving image) would only repeat it here.
    reported = {d.location for d in sink.diagnostics if d.severity == "error"}
    expressions: dict[str, list[Problem]] = {}
    for problem in check_expressions(definition):
        expressions.setdefault(problem.step, []).append(problem)
    for step in steps:
        if _where(step) in reported:
            continue
        for problem in expressions.get(step.name, []):
            _expression_error(sink, step, problem)
        _check_dependencies(step, by_name, sink)
        if step.type in OPERATIONS:
            for message in check_arguments(step):
                _error(
                    sink,
                    "MLC403",
                    f"step {step.name!r} ({step.type}) is not a valid {OPERATIONS[step.type][0]} request: {message}",
                    _where(step),
                    "fix the step's options (platform_options['sagemaker'], resources, profile instance_types)",
                    step.name,
                )


def _where(step: d.Step) -> SourceLocation | None:
    return SourceLocation(*step.origin) if step.origin else None


def _error(
    sink: DiagnosticSink,
    code: str,
    message: str,
    where: SourceLocation | None,
    hint: str,
    step: str | None,
) -> None:
    sink.error(code, message, where, hint, platform=PLATFORM, step=step)


# ----- references ----------------------------------------------------------------------------


def _expression_error(sink: DiagnosticSink, step: d.Step, problem: Problem) -> None:
    """An expression of the step that names nothing (MLC404), or a value that cannot fill the
    field it is in (MLC403): both are the compiler's own mistakes."""
    if problem.kind == "unresolved":
        code = "MLC404"
        message = f"step {step.name!r} refers to {problem.message} (at {problem.field})"
    else:
        code = "MLC403"
        message = f"step {step.name!r} ({step.type}) cannot fill {problem.field}: {problem.message}"
    hint = "this is a bug in the SageMaker compiler; please report it with the pipeline"
    _error(sink, code, message, _where(step), hint, step.name)


def _check_dependencies(step: d.Step, steps: dict[str, d.Step], sink: DiagnosticSink) -> None:
    for dep in step.depends_on:
        if dep not in steps or dep == step.name:
            _error(
                sink,
                "MLC404",
                f"step {step.name!r} depends on {dep!r}, which is not another step",
                _where(step),
                "check .after(...) calls",
                step.name,
            )


# ----- API shapes ----------------------------------------------------------------------------


def _placeholder(shape: Any) -> Any:
    kind = shape.type_name
    if kind == "string":
        return shape.enum[0] if shape.enum else "x" * max(1, shape.metadata.get("min", 1))
    return {
        "integer": 1,
        "long": 1,
        "float": 1.0,
        "double": 1.0,
        "boolean": True,
        "timestamp": "2020-01-01T00:00:00Z",
        "list": [],
        "map": {},
        "structure": {},
        "blob": b"x",
    }[kind]


def _concrete(value: Any, shape: Any, path: str, problems: list[str]) -> Any:
    """``value`` with expressions replaced by typed placeholders; string rules checked."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _EXPRESSIONS:
        return _placeholder(shape)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {
            k: _concrete(v, shape.members[k], f"{path}.{k}".lstrip("."), problems)
            if k in shape.members
            else v
            for k, v in value.items()
        }
    if kind == "list" and isinstance(value, list):
        return [_concrete(v, shape.member, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        return {k: _concrete(v, shape.value, f"{path}.{k}", problems) for k, v in value.items()}
    if kind == "string" and isinstance(value, str):
        _string_rules(value, shape, path, problems)
    return value


def _string_rules(value: str, shape: Any, path: str, problems: list[str]) -> None:
    meta = shape.metadata
    if "max" in meta and len(value) > meta["max"]:
        problems.append(f"{path} is {len(value)} characters long, more than {meta['max']}")
    if shape.enum and value not in shape.enum:
        problems.append(f"{path} {value!r} is not one of the values the API accepts")
    pattern = meta.get("pattern")
    if pattern:
        try:
            ok = re.fullmatch(pattern, value, re.DOTALL) is not None
        except re.error:
            ok = True  # a Java-only construct: leave it to the service
        if not ok:
            problems.append(f"{path} {value!r} does not match {pattern}")


def check_arguments(step: d.Step) -> list[str]:
    """Every way ``step.arguments`` is not a valid request of its API ([] when valid)."""
    from botocore.validate import ParamValidator

    operation, name_member, _ = OPERATIONS[step.type]
    shape = service_model().operation_model(operation).input_shape
    problems: list[str] = []
    params = _concrete(d.to_json(step.arguments), shape, "", problems)
    if name_member and name_member not in params:
        params[name_member] = "placeholder-name"
    report = ParamValidator().validate(params, shape).generate_report()
    problems.extend(line.strip() for line in report.splitlines() if line.strip())
    return problems
