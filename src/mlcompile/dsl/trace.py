"""Tracing: running a pipeline function with handles to record its tasks and blocks as IR.

One :class:`Trace` is active while a ``@pipeline`` function runs. Step calls append task
builders to the innermost open body; ``when``/``otherwise``/``for_each`` open nested bodies.
At the end the builders are frozen into IR nodes, with source locations made relative to the
project root.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union

from mlcompile.dsl._ir import ir
from mlcompile.dsl.location import RawLocation, relative_path
from mlcompile.dsl.values import (
    DslUsageError,
    ParamHandle,
    TaskHandle,
    ValueHandle,
    describe_value,
)
from mlcompile.errors import DiagnosticSink, SourceLocation

_TOKEN = re.compile(r"\{\{mlc:(\d+)\}\}")
#: The longest step or component name the IR allows (``TASK_NAME`` in the IR validator).
NAME_LIMIT = 64
_current: ContextVar[Trace | None] = ContextVar("mlcompile_trace", default=None)


def numbered(base: str, n: int, limit: int = NAME_LIMIT) -> str:
    """The ``n``-th use of the name ``base``: ``base_n``, with ``base`` cut (and any ``_`` or
    ``-`` it then ends in dropped) so the whole stays within ``limit`` characters. Callers keep
    counting while the result is taken, so a cut base never reuses a name."""
    suffix = f"_{n}"
    if len(base) + len(suffix) <= limit:
        return base + suffix
    cut = base[: max(1, limit - len(suffix))]
    return (cut.rstrip("_-") or cut[:1]) + suffix


@dataclass
class TaskBuilder:
    name: str
    component: str
    inputs: dict[str, ir.Value]
    options: ir.StepOptions
    location: RawLocation
    after: list[str] = field(default_factory=list)
    explicit_name: bool = False


@dataclass
class ConditionBuilder:
    id: str
    expr: ir.ConditionExpr
    location: RawLocation
    then: list[NodeBuilder] = field(default_factory=list)
    otherwise: list[NodeBuilder] | None = None


@dataclass
class LoopBuilder:
    id: str
    items: ir.Literal | ir.ParamRef | ir.OutputRef
    item_type: str
    parallelism: int | None
    location: RawLocation
    body: list[NodeBuilder] = field(default_factory=list)


if TYPE_CHECKING:
    NodeBuilder = Union[TaskBuilder, ConditionBuilder, LoopBuilder]


class Trace:
    """The state of one pipeline function being traced."""

    def __init__(self, root: Path, sink: DiagnosticSink) -> None:
        self.root = root
        self.sink = sink
        self.components: dict[str, ir.Component] = {}
        self._component_names: dict[object, str] = {}
        self.tasks: dict[str, TaskBuilder] = {}
        self.body: list[NodeBuilder] = []
        self._stack: list[list[NodeBuilder]] = [self.body]
        self._counters: dict[str, int] = {}
        self._tokens: list[ValueHandle] = []
        self.final: TaskBuilder | None = None
        self.sources: dict[str, ir.SourceFile] = {}
        #: Tasks given a value whose mistake was already reported; not told of missing inputs.
        self.poisoned: set[str] = set()

    # ----- locations and diagnostics -------------------------------------------------------

    def location(self, raw: RawLocation) -> SourceLocation:
        return SourceLocation(relative_path(raw.path, self.root), raw.line)

    def ir_location(self, raw: RawLocation) -> ir.Location:
        loc = self.location(raw)
        return ir.Location(file=loc.file, line=loc.line)

    def error(
        self, code: str, message: str, raw: RawLocation, hint: str, step: str | None = None
    ) -> None:
        self.sink.error(code, message, self.location(raw), hint, step=step)

    # ----- bodies --------------------------------------------------------------------------

    @property
    def current_body(self) -> list[NodeBuilder]:
        return self._stack[-1]

    @property
    def depth(self) -> int:
        return len(self._stack) - 1

    def push(self, body: list[NodeBuilder]) -> None:
        self._stack.append(body)

    def pop(self) -> None:
        self._stack.pop()

    def next_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}_{self._counters[prefix]}"

    # ----- components and tasks ------------------------------------------------------------

    def register_component(self, key: object, build: Callable[[], ir.Component]) -> str:
        """Add a component once per definition; a different one with a taken name gets a suffix."""
        if key in self._component_names:
            return self._component_names[key]
        component = build()
        name = component.name
        suffix = 1
        while name in self.components and self.components[name] != component:
            suffix += 1
            name = numbered(component.name, suffix)
        if name != component.name:
            component = component.model_copy(update={"name": name})
        self.components[name] = component
        self._component_names[key] = name
        return name

    def unique_task_name(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... for later calls: always within the name limit
        (a base at the limit is cut to make room for the suffix) and never a name taken."""
        name, n = base, 1
        while name in self.tasks:
            n += 1
            name = numbered(base, n)
        return name

    def add_task(self, builder: TaskBuilder, outputs: dict[str, str]) -> TaskHandle:
        self.tasks[builder.name] = builder
        self.current_body.append(builder)
        return TaskHandle(builder, outputs)

    def override_options(self, builder: TaskBuilder, options: dict[str, Any]) -> None:
        from mlcompile.dsl.step import merge_options

        new_name = options.pop("name", None)
        if new_name is not None:
            self.rename(builder, new_name)
        builder.options = merge_options(
            builder.options, options, self, builder.location, builder.name
        )

    def rename(self, builder: TaskBuilder, new_name: object) -> None:
        if not isinstance(new_name, str) or not new_name:
            self.error(
                "MLC119",
                f"step name {new_name!r} is not a string",
                builder.location,
                'write .with_options(name="train_small")',
                step=builder.name,
            )
            return
        if new_name in self.tasks and self.tasks[new_name] is not builder:
            other = self.tasks[new_name]
            self.error(
                "MLC104",
                f"two steps are named {new_name!r} (the other is at {self.location(other.location)})",
                builder.location,
                "give each step call a unique name",
                step=new_name,
            )
            return
        del self.tasks[builder.name]
        builder.name = new_name
        builder.explicit_name = True
        self.tasks[new_name] = builder

    # ----- f-string tokens -----------------------------------------------------------------

    def token_for(self, handle: ValueHandle) -> str:
        self._tokens.append(handle)
        return "{{mlc:" + str(len(self._tokens) - 1) + "}}"

    def template(self, text: str) -> ir.Value:
        """A literal, or a template when the text holds formatted handles (f-strings)."""
        pieces = _TOKEN.split(text)
        if len(pieces) == 1:
            return ir.Literal(value=text)
        parts: list[str | Any] = []
        for index, piece in enumerate(pieces):
            if index % 2 == 0:
                if piece:
                    parts.append(piece)
            else:
                parts.append(self._tokens[int(piece)].ir_value())
        return ir.TemplateRef(parts=tuple(parts))

    # ----- freezing ------------------------------------------------------------------------

    def freeze_body(self, body: list[NodeBuilder]) -> tuple[ir.BodyNode, ...]:
        return tuple(self.freeze_node(node) for node in body)

    def freeze_node(self, node: NodeBuilder) -> ir.BodyNode:
        if isinstance(node, TaskBuilder):
            return self.freeze_task(node)
        if isinstance(node, ConditionBuilder):
            return ir.Condition(
                id=node.id,
                condition=node.expr,
                then=self.freeze_body(node.then),
                otherwise=None if node.otherwise is None else self.freeze_body(node.otherwise),
                location=self.ir_location(node.location),
            )
        return ir.Loop(
            id=node.id,
            items=node.items,
            item_type=node.item_type,
            parallelism=node.parallelism,
            body=self.freeze_body(node.body),
            location=self.ir_location(node.location),
        )

    def freeze_task(self, task: TaskBuilder) -> ir.Task:
        return ir.Task(
            name=task.name,
            component=task.component,
            inputs=task.inputs,
            options=task.options,
            after=tuple(dict.fromkeys(task.after)),
            location=self.ir_location(task.location),
        )


def current_trace() -> Trace:
    trace = _current.get()
    if trace is None:
        raise DslUsageError(
            "MLC117",
            "a pipeline construct was used outside a @pipeline function",
            "call steps, when(), for_each() and the built-ins inside a function decorated with @pipeline",
        )
    return trace


def active_trace() -> Trace | None:
    return _current.get()


def enter_trace(trace: Trace) -> object:
    return _current.set(trace)


def exit_trace(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


_JSON_SCALARS = (str, int, float, bool, type(None))


def to_value(obj: object) -> ir.Value:
    """A Python value or handle passed into a step, as an IR value."""
    if isinstance(obj, ValueHandle):
        return obj.ir_value()
    if isinstance(obj, TaskHandle):
        return obj.output.ir_value()
    if isinstance(obj, str):
        return current_trace().template(obj)
    if _is_json_literal(obj):
        return ir.Literal(value=obj)
    raise DslUsageError(
        "MLC117",
        f"{describe_value(obj)} cannot be passed between steps",
        "pass str, int, float, bool, None, or lists and dicts of them, a pipeline parameter or "
        "a step output; handles inside lists or dicts are not supported: use collect() for fan-in",
    )


def _is_json_literal(obj: object) -> bool:
    if isinstance(obj, _JSON_SCALARS):
        return not (isinstance(obj, float) and obj != obj)
    if isinstance(obj, (list, tuple)):
        return all(_is_json_literal(v) for v in obj)
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _is_json_literal(v) for k, v in obj.items())
    return False


def literal_type(value: object) -> str:
    """The IR parameter type of a literal."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    return "any"


__all__ = ["ParamHandle", "Trace", "current_trace", "literal_type", "to_value"]
