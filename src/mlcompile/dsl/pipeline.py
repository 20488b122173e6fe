"""``@pipeline``: a Python function whose body wires steps together.

Decorating only records the function. :meth:`PipelineDefinition.build` traces it into IR and
validates the result, reporting every problem at once; called inside another pipeline, a
pipeline becomes a nested step with its own parameters and outputs.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar, overload

from mlcompile.dsl import signature
from mlcompile.dsl._ir import ir
from mlcompile.dsl.location import RawLocation, caller_location, is_internal, project_root
from mlcompile.dsl.step import annotation_type, bind_inputs
from mlcompile.dsl.trace import TaskBuilder, Trace, active_trace, enter_trace, exit_trace
from mlcompile.dsl.values import (
    DslUsageError,
    ParamHandle,
    TaskHandle,
    ValueHandle,
    describe_value,
)
from mlcompile.errors import (
    Diagnostic,
    DiagnosticSink,
    InternalError,
    SourceLocation,
    ValidationError,
)

if TYPE_CHECKING or sys.version_info >= (3, 10):
    from typing import ParamSpec  # novermin: imported only where it exists

    P = ParamSpec("P")
else:  # the step side runs on 3.8: only type checkers need the parameters' types
    P = TypeVar("P")
R = TypeVar("R")

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


class PipelineDefinition(Generic[P, R]):
    """A decorated pipeline function; ``build()`` gives its validated IR."""

    def __init__(
        self,
        func: Callable[P, R],
        name: str | None,
        description: str | None,
        schedule: str | None,
        timezone: str,
        location: RawLocation,
    ) -> None:
        self.func = func
        self.name = name or func.__name__
        self.description = (
            description if description is not None else inspect.cleandoc(func.__doc__ or "")
        )
        self.schedule = schedule
        self.timezone = timezone
        self.location = location
        self._poisoned: set[str] = set()
        #: Warnings of the last build (an unused parameter, for example).
        self.warnings: list[Diagnostic] = []
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__wrapped__ = func

    def __repr__(self) -> str:
        return f"<pipeline {self.name}>"

    def build(self, root: Path | None = None) -> ir.Pipeline:
        """Trace and validate; raises :class:`ValidationError` with every problem found."""
        from mlcompile.ir.validate import validate

        sink = DiagnosticSink()
        pipeline = self.trace(root or project_root(self.location.path), sink)
        traced = list(sink.diagnostics)
        checked = DiagnosticSink(list(traced))
        validate(pipeline, checked)
        for diagnostic in checked.diagnostics[len(traced) :]:
            # A task given a misspelt value was told so where it was misspelt.
            if not (diagnostic.code == "MLC102" and diagnostic.step in self._poisoned):
                sink.add(diagnostic)
        sink.raise_if_errors(ValidationError)
        self.warnings = [d for d in sink.diagnostics if d.severity == "warning"]
        return pipeline

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        trace = active_trace()
        if trace is None:
            raise TypeError(
                f"pipeline {self.name!r} cannot be called directly; run it with "
                "`mlcompile run FILE` or call it inside another @pipeline"
            )
        return self._add_nested(trace, args, kwargs)  # type: ignore[return-value]

    # ----- tracing -------------------------------------------------------------------------

    def trace(self, root: Path, sink: DiagnosticSink) -> ir.Pipeline:
        trace = Trace(root, sink)
        self._poisoned = trace.poisoned
        where = trace.location(self.location)
        params = self._parameters(trace)
        handles = {p.name: ParamHandle(p.name, p.type) for p in params}
        token = enter_trace(trace)
        result: Any = None
        try:
            result = self.func(**handles)  # type: ignore[arg-type, call-arg]
        except DslUsageError as err:
            trace.error(
                err.code, err.message, _user_frame(err.__traceback__) or self.location, err.hint
            )
        except InternalError:
            raise
        except Exception as exc:
            trace.error(
                "MLC117",
                f"pipeline {self.name!r} raised {type(exc).__name__} while it was built: "
                + _user_words(str(exc)),
                _user_frame(exc.__traceback__) or self.location,
                "a pipeline function only wires steps; move computation into a @step",
            )
        finally:
            exit_trace(token)
        outputs = self._outputs(result, trace)
        if not _NAME.match(self.name):
            trace.error(
                "MLC119",
                f"pipeline name {self.name!r} is not valid",
                self.location,
                "use lowercase letters, digits, '-' and '_', starting with a letter",
            )
        schedule = None
        if self.schedule is not None:
            problem = cron_problem(self.schedule)
            if problem:
                sink.error(
                    "MLC107",
                    f"pipeline {self.name!r}: schedule {self.schedule!r} is not a cron expression: {problem}",
                    where,
                    'use five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *"',
                )
            elif self._timezone_ok(where, sink):
                schedule = ir.Schedule(cron=self.schedule, timezone=self.timezone)
        elif self.timezone != "UTC":
            self._timezone_ok(where, sink)
        built = ir.Pipeline(
            name=self.name,
            description=self.description,
            parameters=tuple(params),
            outputs=tuple(outputs),
            schedule=schedule,
            components=dict(sorted(trace.components.items())),
            body=trace.freeze_body(trace.body),
            final=trace.freeze_task(trace.final) if trace.final else None,
            sources=dict(sorted(trace.sources.items())),
            location=trace.ir_location(self.location),
        )
        if not sink.has_errors:  # a parameter given to a refused option is not "unused"
            self._warn_unused(built, where, sink)
        return built

    def _warn_unused(self, built: ir.Pipeline, where: SourceLocation, sink: DiagnosticSink) -> None:
        """A parameter nothing reads is most often a typo or a forgotten wire."""
        used: set[str] = set()

        def visit(data: object) -> None:
            if isinstance(data, dict):
                if data.get("kind") == "param" and isinstance(data.get("name"), str):
                    used.add(data["name"])
                if ir.option_parameter(data) is not None:  # a platform option
                    used.add(str(ir.option_parameter(data)))
                for value in data.values():
                    visit(value)
            elif isinstance(data, (list, tuple)):
                for value in data:
                    visit(value)

        visit(built.model_dump(include={"body", "final", "outputs"}))
        for param in built.parameters:
            if param.name not in used:
                sink.add(
                    Diagnostic(
                        "MLC121",
                        f"pipeline {self.name!r}: parameter {param.name!r} is not used by any step",
                        where,
                        f"pass {param.name} to the step that needs it, or remove the parameter",
                        "warning",
                    )
                )

    def _timezone_ok(self, where: SourceLocation, sink: DiagnosticSink) -> bool:
        """The schedule's time zone must be one of the IANA database (checked here, when the
        pipeline is built, so a step that imports the module never needs the database)."""
        from mlcompile.dsl.location import option_location

        problem = timezone_problem(self.timezone)
        if problem is None:
            return True
        at = option_location(self.location, "timezone")
        sink.error(
            "MLC120",
            f"pipeline {self.name!r}: timezone={self.timezone!r} {problem}",
            SourceLocation(where.file, at.line if at.path == self.location.path else where.line),
            "use an IANA time zone name such as 'UTC', 'Europe/London' or 'America/New_York'",
        )
        return False

    def _parameters(self, trace: Trace) -> list[ir.Port]:
        try:
            hints = signature.hints(self.func)
        except Exception:
            hints = {}
        params: list[ir.Port] = []
        for param in inspect.signature(self.func).parameters.values():
            typed = annotation_type(hints.get(param.name))
            if typed is None or typed[1] is not None:
                trace.error(
                    "MLC108",
                    f"pipeline {self.name!r}: parameter {param.name!r} needs a type annotation "
                    f"of int, float, str, bool, list or dict",
                    self.location,
                    f"write {param.name}: float = 0.8",
                )
                continue
            has_default = param.default is not inspect.Parameter.empty
            params.append(
                ir.Port(
                    name=param.name,
                    type=typed[0],
                    default=param.default if has_default else None,
                    has_default=has_default,
                )
            )
        return params

    def _outputs(self, result: Any, trace: Trace) -> list[ir.PipelineOutput]:
        if result is None:
            return []
        items = result.items() if isinstance(result, dict) else [("output", result)]
        outputs = []
        for name, value in items:
            if isinstance(value, TaskHandle):
                try:
                    value = value.output
                except DslUsageError as err:
                    trace.error(
                        "MLC115",
                        f"pipeline output {name!r}: {err.message}",
                        self.location,
                        err.hint,
                    )
                    continue
            if not isinstance(value, ValueHandle) or not isinstance(name, str):
                trace.error(
                    "MLC115",
                    f"pipeline {self.name!r} returns {describe_value(value)} as output {name!r}",
                    self.location,
                    "return a step output, a merge(), or a dict of them by name",
                )
                continue
            outputs.append(ir.PipelineOutput(name=name, type=value.type, source=value.ir_value()))
        return outputs

    def _add_nested(
        self, trace: Trace, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> TaskHandle:
        call_site = caller_location()

        def build() -> ir.Component:
            sub = self.trace(trace.root, trace.sink)
            trace.sources.update(sub.sources)
            sub = sub.model_copy(update={"sources": {}})
            return ir.Component(
                name=self.name,
                kind="pipeline",
                description=sub.description,
                inputs=sub.parameters,
                outputs=tuple(ir.Port(name=o.name, type=o.type) for o in sub.outputs),
                location=sub.location,
                pipeline=sub,
            )

        name = trace.register_component(self, build)
        component = trace.components[name]
        task_name = trace.unique_task_name(self.name)
        values = bind_inputs(component, args, kwargs, trace, call_site, task_name)
        builder = TaskBuilder(task_name, name, values, ir.StepOptions(), call_site)
        return trace.add_task(builder, {p.name: p.type for p in component.outputs})


_OWN_CLASSES = {
    "TaskHandle": "step call",
    "OutputHandle": "step output",
    "ParamHandle": "pipeline parameter",
    "MetricHandle": "metric",
    "LoopItemHandle": "loop item",
    "CollectedHandle": "collected value",
    "OneOfHandle": "merged value",
    "ConditionHandle": "run-time condition",
    "UnknownHandle": "unknown value",
}


def _user_words(message: str) -> str:
    """An exception's text with the DSL's own class names as the user knows those values."""
    for name, words in _OWN_CLASSES.items():
        message = message.replace(f"'{name}'", words).replace(name, words)
    return re.sub(r"<[\w.]+ object at 0x[0-9a-f]+>", "a value", message)


def _user_frame(tb: TracebackType | None) -> RawLocation | None:
    found = None
    while tb is not None:
        if not is_internal(tb.tb_frame.f_code.co_filename):
            found = RawLocation(os.path.abspath(tb.tb_frame.f_code.co_filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def timezone_problem(name: object) -> str | None:
    """None when ``name`` is a time zone of the IANA database, else what is wrong with it."""
    if not isinstance(name, str) or not name:
        return "is not a time zone name"
    import zoneinfo  # novermin: only the host runs this, when the pipeline is built

    from mlcompile.errors import did_you_mean

    try:
        zoneinfo.ZoneInfo(name)
        return None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    known = zoneinfo.available_timezones()
    if not known:
        return "cannot be checked: no IANA time zone database is installed (pip install tzdata)"
    return "is not a time zone of the IANA database." + did_you_mean(name, known)


_CRON_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
_CRON_NAMES = [
    {},
    {},
    {},
    {
        m: i + 1
        for i, m in enumerate(
            ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        )
    },
    {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])},
]
_FIELD_NAMES = ["minute", "hour", "day of month", "month", "day of week"]


def cron_problem(expr: str) -> str:
    """'' when ``expr`` is a valid five-field cron expression, else what is wrong."""
    fields = expr.split()
    if len(fields) != 5:
        return f"it has {len(fields)} fields, not 5"
    for text, (low, high), names, label in zip(fields, _CRON_RANGES, _CRON_NAMES, _FIELD_NAMES):
        for part in text.split(","):
            base, _, step_text = part.partition("/")
            if step_text and not (step_text.isdigit() and int(step_text) > 0):
                return f"{label} step {step_text!r} is not a positive number"
            if base == "*":
                continue
            bounds = base.split("-")
            if len(bounds) > 2:
                return f"{label} {part!r} is not a value, range or list"
            values = []
            for bound in bounds:
                value = names.get(bound.upper()) if not bound.isdigit() else int(bound)
                if value is None or not low <= value <= high:
                    return f"{label} {bound!r} is outside {low}-{high}"
                values.append(value)
            if len(values) == 2 and values[0] > values[1]:
                return f"{label} range {base!r} runs backwards"
    return ""


@overload
def pipeline(func: Callable[P, R], /) -> PipelineDefinition[P, R]: ...


@overload
def pipeline(
    *,
    name: str | None = None,
    description: str | None = None,
    schedule: str | None = None,
    timezone: str = "UTC",
) -> Callable[[Callable[P, R]], PipelineDefinition[P, R]]: ...


def pipeline(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    schedule: str | None = None,
    timezone: str = "UTC",
) -> Any:
    """Make a function a pipeline. Typed parameters with defaults become pipeline parameters;
    ``schedule`` is a five-field cron expression for recurring runs."""
    location = caller_location()

    def wrap(f: Callable[..., Any]) -> PipelineDefinition[Any, Any]:
        return PipelineDefinition(f, name, description, schedule, timezone, location)

    return wrap(func) if func is not None else wrap
