"""What a pipeline function holds while it is traced: handles standing for run-time values.

A handle is a pipeline parameter, a task output, a loop item, a fan-in, a merge or a metric read
from an artifact. Comparing handles builds a condition; formatting one into an f-string builds a
run-time template. Using one as a Python bool or iterating over it is a mistake the user is told
about, with the line and the construct to use instead.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NoReturn

from mlcompile.dsl._ir import ir

if TYPE_CHECKING:
    from mlcompile.dsl.trace import TaskBuilder

#: A metric key: a name, or a dotted path into nested objects (SageMaker JsonGet's spelling).
_METRIC_KEY = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


class DslUsageError(Exception):
    """A misuse found while tracing that stops the trace; reported as a located diagnostic."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def describe_value(obj: object) -> str:
    """A value as the user wrote it, for messages: never a class path or an object address."""
    if isinstance(obj, ValueHandle):
        return obj.describe()
    if isinstance(obj, TaskHandle):
        return f"step {obj.name!r}"
    if isinstance(obj, ConditionHandle):
        return "a run-time condition"
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return repr(obj)
    return f"a {type(obj).__name__}"


class ConditionHandle:
    """A condition built from comparisons; combine with ``&``, ``|`` and ``~``."""

    def __init__(self, expr: ir.ConditionExpr) -> None:
        self.expr = expr

    def __and__(self, other: ConditionHandle) -> ConditionHandle:
        return ConditionHandle(ir.AllOf(operands=(self.expr, _expr(other))))

    def __or__(self, other: ConditionHandle) -> ConditionHandle:
        return ConditionHandle(ir.AnyOf(operands=(self.expr, _expr(other))))

    def __invert__(self) -> ConditionHandle:
        return ConditionHandle(ir.Not(operand=self.expr))

    def __repr__(self) -> str:
        return "a run-time condition"

    def __bool__(self) -> NoReturn:
        raise DslUsageError(
            "MLC106",
            "a run-time condition was used as a Python bool (if/and/or/not) while building the "
            "pipeline; its value is only known when the pipeline runs",
            "write `with when(a > b):` and combine conditions with &, | and ~",
        )


def _expr(other: object) -> ir.ConditionExpr:
    if isinstance(other, ConditionHandle):
        return other.expr
    raise DslUsageError(
        "MLC106",
        f"cannot combine a condition with {describe_value(other)}",
        "combine conditions built from comparisons, e.g. (auc > 0.8) & (loss < 0.3)",
    )


class ValueHandle:
    """A value known only when the pipeline runs."""

    type: str

    def ir_value(self) -> ir.Value:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        # Shown in messages as the user knows the value, never as a class and an address.
        return self.describe()

    def _compare(self, op: ir.CompareOp, other: object) -> ConditionHandle:
        from mlcompile.dsl.trace import to_value

        return ConditionHandle(ir.Compare(op=op, left=self.ir_value(), right=to_value(other)))

    def __gt__(self, other: object) -> ConditionHandle:
        return self._compare(">", other)

    def __ge__(self, other: object) -> ConditionHandle:
        return self._compare(">=", other)

    def __lt__(self, other: object) -> ConditionHandle:
        return self._compare("<", other)

    def __le__(self, other: object) -> ConditionHandle:
        return self._compare("<=", other)

    def __eq__(self, other: object) -> ConditionHandle:  # type: ignore[override]
        return self._compare("==", other)

    def __ne__(self, other: object) -> ConditionHandle:  # type: ignore[override]
        return self._compare("!=", other)

    __hash__ = object.__hash__

    def __bool__(self) -> NoReturn:
        raise DslUsageError(
            "MLC106",
            f"{self.describe()} was used as a Python bool while building the pipeline; "
            "its value is only known when the pipeline runs",
            "branch at run time with `with when(value == True):` or compare it in when(...)",
        )

    def __iter__(self) -> NoReturn:
        raise DslUsageError(
            "MLC112",
            f"{self.describe()} was iterated with a Python loop while building the pipeline",
            "fan out at run time with `with for_each(values) as item:`",
        )

    def __format__(self, spec: str) -> str:
        from mlcompile.dsl.trace import current_trace

        return current_trace().token_for(self)

    def __str__(self) -> str:
        return self.__format__("")


class ParamHandle(ValueHandle):
    def __init__(self, name: str, type_name: str) -> None:
        self.name = name
        self.type = type_name

    def ir_value(self) -> ir.Value:
        return ir.ParamRef(name=self.name)

    def describe(self) -> str:
        return f"pipeline parameter {self.name!r}"


class OutputHandle(ValueHandle):
    def __init__(self, task: TaskBuilder, output: str, type_name: str) -> None:
        self.task = task
        self.output = output
        self.type = type_name

    def ir_value(self) -> ir.Value:
        return ir.OutputRef(task=self.task.name, output=self.output)

    def describe(self) -> str:
        return f"output {self.output!r} of step {self.task.name!r}"

    def __getitem__(self, key: str) -> MetricHandle:
        if self.type != "Metrics":
            raise DslUsageError(
                "MLC106",
                f"{self.describe()} is {self.type}; only a Metrics artifact can be read by key",
                "write Output[Metrics] in the step and index it: evaluate_task.metrics['auc']",
            )
        if not isinstance(key, str) or not _METRIC_KEY.fullmatch(key):
            raise DslUsageError(
                "MLC106",
                f"metric key {key!r} of {self.describe()} is not a name or a dotted path",
                "use names of letters, digits, '_' and '-', joined by '.' for nested values:"
                " metrics['regression_metrics.mse.value']",
            )
        return MetricHandle(self, key)


class MetricHandle(ValueHandle):
    type = "float"

    def __init__(self, source: OutputHandle, key: str) -> None:
        self.source = source
        self.key = key

    def ir_value(self) -> ir.Value:
        return ir.MetricRef(task=self.source.task.name, output=self.source.output, key=self.key)

    def describe(self) -> str:
        return f"metric {self.key!r} of {self.source.describe()}"


class LoopItemHandle(ValueHandle):
    def __init__(self, loop: str, type_name: str, key: str | None = None) -> None:
        self.loop = loop
        self.type = type_name
        self.key = key

    def ir_value(self) -> ir.Value:
        return ir.LoopItemRef(loop=self.loop, key=self.key)

    def describe(self) -> str:
        return f"item of {self.loop}" + (f"[{self.key!r}]" if self.key else "")

    def __getitem__(self, key: str) -> LoopItemHandle:
        if self.key is not None or self.type not in ("dict", "any"):
            raise DslUsageError(
                "MLC112",
                f"{self.describe()} is {self.type}; only dict items can be read by key",
                "fan out over a list of dicts to read fields: for_each([{'lr': 0.1}, ...])",
            )
        return LoopItemHandle(self.loop, "any", key)


class CollectedHandle(ValueHandle):
    def __init__(self, source: OutputHandle, type_name: str) -> None:
        self.source = source
        self.type = type_name

    def ir_value(self) -> ir.Value:
        return ir.CollectedRef(task=self.source.task.name, output=self.source.output)

    def describe(self) -> str:
        return f"collected {self.source.describe()}"


class OneOfHandle(ValueHandle):
    def __init__(self, options: tuple[OutputHandle, ...], type_name: str) -> None:
        self.options = options
        self.type = type_name

    def ir_value(self) -> ir.Value:
        return ir.OneOfRef(
            options=tuple(ir.OutputRef(task=o.task.name, output=o.output) for o in self.options)
        )

    def describe(self) -> str:
        return "merge of " + ", ".join(o.describe() for o in self.options)


class UnknownHandle(ValueHandle):
    """Stands for a value whose mistake was already reported (a misspelt output): any use of
    it is accepted silently, so one mistake is reported once and does not stop the trace."""

    type = "any"

    def __init__(self, what: str) -> None:
        self.what = what

    def ir_value(self) -> ir.Value:
        return ir.Literal(value=None)

    def describe(self) -> str:
        return self.what

    def __getattr__(self, name: str) -> UnknownHandle:
        if name.startswith("_"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: object) -> UnknownHandle:
        return self

    def __bool__(self) -> bool:  # type: ignore[override]
        return False

    def __iter__(self) -> NoReturn:
        raise DslUsageError(
            "MLC112",
            f"{self.describe()} was iterated with a Python loop while building the pipeline",
            "fan out at run time with `with for_each(values) as item:`",
        )


class TaskHandle:
    """A step called inside a pipeline. Its outputs are ``task.outputs[name]`` or
    ``task.<name>``; a task with a single output can stand for that output."""

    def __init__(self, builder: TaskBuilder, outputs: dict[str, str]) -> None:
        self._builder = builder
        self.outputs: dict[str, OutputHandle] = {
            name: OutputHandle(builder, name, type_name) for name, type_name in outputs.items()
        }

    @property
    def name(self) -> str:
        return self._builder.name

    def __repr__(self) -> str:
        return f"step {self.name!r}"

    # A step with one output compares as that output: when(train_task > 0.8).
    def __gt__(self, other: object) -> ConditionHandle:
        return self.output > other

    def __ge__(self, other: object) -> ConditionHandle:
        return self.output >= other

    def __lt__(self, other: object) -> ConditionHandle:
        return self.output < other

    def __le__(self, other: object) -> ConditionHandle:
        return self.output <= other

    @property
    def output(self) -> OutputHandle:
        """The step's return value, or its only output."""
        if "output" in self.outputs:
            return self.outputs["output"]
        if len(self.outputs) != 1:
            names = ", ".join(sorted(self.outputs)) or "none"
            raise DslUsageError(
                "MLC110",
                f"step {self.name!r} has outputs {names}, not exactly one",
                f"pick one by name, e.g. {self.name}.outputs[{next(iter(sorted(self.outputs)), 'x')!r}]",
            )
        return next(iter(self.outputs.values()))

    def __getattr__(self, name: str) -> OutputHandle:
        if name.startswith("_"):
            raise AttributeError(name)
        outputs = self.__dict__.get("outputs", {})
        if name in outputs:
            return outputs[name]  # type: ignore[no-any-return]
        from mlcompile.dsl.location import caller_location
        from mlcompile.dsl.trace import active_trace
        from mlcompile.errors import did_you_mean

        error = DslUsageError(
            "MLC109",
            f"step {self.name!r} has no output {name!r}." + did_you_mean(name, list(outputs)),
            f"its outputs are: {', '.join(sorted(outputs)) or 'none'}",
        )
        trace = active_trace()
        if trace is None:
            raise error
        # Reported here, and tracing goes on with a stand-in, so the mistakes after this line
        # are reported in the same run.
        trace.error(error.code, error.message, caller_location(), error.hint, step=self.name)
        return UnknownHandle(f"output {name!r} of step {self.name!r}")  # type: ignore[return-value]

    def after(self, *tasks: TaskHandle) -> TaskHandle:
        """Run this task only after ``tasks`` finished, without reading their outputs."""
        for task in tasks:
            if not isinstance(task, TaskHandle):
                raise DslUsageError(
                    "MLC117",
                    f".after() takes tasks, not {describe_value(task)}",
                    "pass the value a step call returned",
                )
            self._builder.after.append(task.name)
        return self

    def with_options(self, **options: Any) -> TaskHandle:
        """Override step options for this call only (retries, resources, secrets, name, ...)."""
        from mlcompile.dsl.trace import current_trace

        current_trace().override_options(self._builder, options)
        return self
