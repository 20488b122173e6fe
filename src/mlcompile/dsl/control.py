"""Control flow inside a pipeline: branches, fan-out and fan-in, merges, and the final step."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlcompile.dsl._ir import ir
from mlcompile.dsl.location import caller_location
from mlcompile.dsl.trace import ConditionBuilder, LoopBuilder, current_trace, literal_type
from mlcompile.dsl.values import (
    CollectedHandle,
    ConditionHandle,
    DslUsageError,
    LoopItemHandle,
    OneOfHandle,
    OutputHandle,
    ParamHandle,
    TaskHandle,
    describe_value,
)


@contextmanager
def when(condition: ConditionHandle) -> Iterator[None]:
    """Run the block only when ``condition`` holds at run time; ``otherwise()`` may follow."""
    trace = current_trace()
    if not isinstance(condition, ConditionHandle):
        hint = "compare a step output or parameter: when(auc > min_auc), when(flag == True)"
        handle = (
            condition.output
            if isinstance(condition, TaskHandle) and len(condition.outputs) == 1
            else condition
        )
        if isinstance(handle, OutputHandle) and handle.type == "Metrics":
            hint = (
                f"read a number out of the Metrics artifact and compare it: "
                f"when({handle.task.name}.{handle.output}['auc'] > 0.8)"
            )
        raise DslUsageError(
            "MLC106",
            f"when() takes a comparison of run-time values, not {_describe(condition)}",
            hint,
        )
    builder = ConditionBuilder(trace.next_id("condition"), condition.expr, caller_location())
    trace.current_body.append(builder)
    trace.push(builder.then)
    try:
        yield
    finally:
        trace.pop()


@contextmanager
def otherwise() -> Iterator[None]:
    """The else branch of the ``when`` block just above."""
    trace = current_trace()
    body = trace.current_body
    last = body[-1] if body else None
    if not isinstance(last, ConditionBuilder) or last.otherwise is not None:
        raise DslUsageError(
            "MLC111",
            "otherwise() does not follow a when() block",
            "put `with otherwise():` right after the `with when(...):` block it completes",
        )
    last.otherwise = []
    trace.push(last.otherwise)
    try:
        yield
    finally:
        trace.pop()


@contextmanager
def for_each(items: Any, parallelism: int | None = None) -> Iterator[Any]:
    """Run the block once per item, at most ``parallelism`` at a time.

    ``items`` is a literal list, a list pipeline parameter, or a list a step returns (known
    only at run time). Read the block's results after it with ``collect()``.
    """
    trace = current_trace()
    loc = caller_location()
    loop_items: ir.Literal | ir.ParamRef | ir.OutputRef
    if isinstance(items, (list, tuple)) and not isinstance(items, str):
        if not items:
            raise DslUsageError("MLC112", "for_each() over an empty list", "give at least one item")
        types = {literal_type(v) for v in items}
        item_type = (
            types.pop() if len(types) == 1 else ("float" if types == {"int", "float"} else "any")
        )
        loop_items = ir.Literal(value=list(items))
    elif isinstance(items, TaskHandle):
        return_ = items.output
        loop_items, item_type = _runtime_items(return_)
    elif isinstance(items, (ParamHandle, OutputHandle)):
        loop_items, item_type = _runtime_items(items)
    else:
        raise DslUsageError(
            "MLC112",
            f"for_each() cannot fan out over {_describe(items)}",
            "fan out over a literal list, a list pipeline parameter or a list a step returns",
        )
    if parallelism is not None and (
        not isinstance(parallelism, int) or isinstance(parallelism, bool) or parallelism < 1
    ):
        raise DslUsageError(
            "MLC112",
            f"for_each() parallelism={parallelism!r} is not a positive whole number",
            "give parallelism=4 to run at most four items at once, or leave it out",
        )
    builder = LoopBuilder(trace.next_id("loop"), loop_items, item_type, parallelism, loc)
    trace.current_body.append(builder)
    trace.push(builder.body)
    try:
        yield LoopItemHandle(builder.id, item_type)
    finally:
        trace.pop()


def _runtime_items(handle: ParamHandle | OutputHandle) -> tuple[ir.ParamRef | ir.OutputRef, str]:
    if handle.type != "list":
        raise DslUsageError(
            "MLC112",
            f"for_each() over {handle.describe()}, which is {handle.type}, not a list",
            "fan out over a list: declare the parameter or the step's return as list",
        )
    value = handle.ir_value()
    assert isinstance(value, (ir.ParamRef, ir.OutputRef))
    return value, "any"


def _describe(value: object) -> str:
    return describe_value(value)


def collect(value: OutputHandle | TaskHandle) -> CollectedHandle:
    """Fan-in: all values a step inside a ``for_each`` block produced, as a list in item order."""
    handle = value.output if isinstance(value, TaskHandle) else value
    if not isinstance(handle, OutputHandle):
        raise DslUsageError(
            "MLC116",
            f"collect() takes a step output from inside a for_each block, not {_describe(value)}",
            "collect(train_task.outputs['score']) after the for_each block",
        )
    type_name = f"list[{handle.type}]" if ir.is_artifact_type(handle.type) else "list"
    return CollectedHandle(handle, type_name)


def merge(*values: OutputHandle | TaskHandle) -> OneOfHandle:
    """The value of whichever branch of a when/otherwise ran (all options must share a type)."""
    handles = tuple(v.output if isinstance(v, TaskHandle) else v for v in values)
    if len(handles) < 2 or not all(isinstance(h, OutputHandle) for h in handles):
        raise DslUsageError(
            "MLC113",
            "merge() takes two or more step outputs, one from each branch of a when/otherwise",
            "merge(then_task.outputs['model'], else_task.outputs['model'])",
        )
    return OneOfHandle(handles, handles[0].type)


def final(task: TaskHandle) -> TaskHandle:
    """Make ``task`` the step that runs last, whether or not the other steps succeeded."""
    trace = current_trace()
    if not isinstance(task, TaskHandle):
        raise DslUsageError(
            "MLC114",
            f"final() takes a step call, not {_describe(task)}",
            "final(notify(channel='ml'))",
        )
    builder = task._builder
    if trace.final is not None:
        raise DslUsageError(
            "MLC114",
            f"a pipeline has one final step; {trace.final.name!r} is already final",
            "do the clean-up work of both in one step",
        )
    if builder not in trace.body:
        raise DslUsageError(
            "MLC114",
            f"final step {builder.name!r} is inside a when/for_each block",
            "call the final step at the top level of the pipeline function",
        )
    trace.body.remove(builder)
    trace.final = builder
    component = trace.components[builder.component]
    for port in component.inputs:
        if port.type == ir.RUN_STATUS and port.name not in builder.inputs:
            builder.inputs[port.name] = ir.RunStatusRef()
    return task
