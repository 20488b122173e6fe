"""Walking the IR: every task with the scopes that enclose it, and the references in a value."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from mlcompile.ir.nodes import (
    AllOf,
    AnyOf,
    BodyNode,
    CollectedRef,
    Compare,
    Condition,
    ConditionExpr,
    Loop,
    MetricRef,
    Not,
    OneOfRef,
    OutputRef,
    Pipeline,
    SourceFile,
    Task,
    TemplateRef,
    Value,
)

#: One enclosing scope: ("then" | "otherwise", condition id), ("loop", loop id) or ("final", "").
Scope = tuple[str, str]


@dataclass(frozen=True)
class ScopedTask:
    task: Task
    scopes: tuple[Scope, ...]

    @property
    def loops(self) -> tuple[str, ...]:
        return tuple(ident for kind, ident in self.scopes if kind == "loop")


def iter_nodes(body: tuple[BodyNode, ...]) -> Iterator[BodyNode]:
    """Every node of a body, depth first, in the order the user wrote them."""
    for node in body:
        yield node
        if isinstance(node, Condition):
            yield from iter_nodes(node.then)
            yield from iter_nodes(node.otherwise or ())
        elif isinstance(node, Loop):
            yield from iter_nodes(node.body)


def scoped_tasks(pipeline: Pipeline) -> Iterator[ScopedTask]:
    """Every task of the pipeline (not of nested pipelines), with its enclosing scopes."""
    yield from _scoped(pipeline.body, ())
    if pipeline.final is not None:
        yield ScopedTask(pipeline.final, (("final", ""),))


def _scoped(body: tuple[BodyNode, ...], scopes: tuple[Scope, ...]) -> Iterator[ScopedTask]:
    for node in body:
        if isinstance(node, Task):
            yield ScopedTask(node, scopes)
        elif isinstance(node, Condition):
            yield from _scoped(node.then, (*scopes, ("then", node.id)))
            yield from _scoped(node.otherwise or (), (*scopes, ("otherwise", node.id)))
        else:
            yield from _scoped(node.body, (*scopes, ("loop", node.id)))


def tasks_by_name(pipeline: Pipeline) -> dict[str, ScopedTask]:
    return {st.task.name: st for st in scoped_tasks(pipeline)}


def task_refs(value: Value) -> Iterator[tuple[str, str]]:
    """(task, output) pairs a value reads, whatever its form."""
    if isinstance(value, OutputRef | CollectedRef | MetricRef):
        yield value.task, value.output
    elif isinstance(value, OneOfRef):
        for option in value.options:
            yield option.task, option.output
    elif isinstance(value, TemplateRef):
        for part in value.parts:
            if not isinstance(part, str):
                yield from task_refs(part)


def condition_values(expr: ConditionExpr) -> Iterator[Value]:
    if isinstance(expr, Compare):
        yield expr.left
        yield expr.right
    elif isinstance(expr, AllOf | AnyOf):
        for operand in expr.operands:
            yield from condition_values(operand)
    elif isinstance(expr, Not):
        yield from condition_values(expr.operand)


def upstream_tasks(task: Task) -> set[str]:
    """Tasks whose outputs this task reads, or that it must run after."""
    names = set(task.after)
    for value in task.inputs.values():
        names.update(t for t, _ in task_refs(value))
    for secret in task.options.secrets:
        names.update(t for t, _ in task_refs(secret.name))
    return names


def source_closure(sources: Mapping[str, SourceFile], file: str) -> list[str]:
    """``file`` and every project file it imports, directly or not, in a stable order."""
    seen: list[str] = []
    pending = [file]
    while pending:
        path = pending.pop()
        if path in seen or path not in sources:
            continue
        seen.append(path)
        pending.extend(reversed(sources[path].imports))
    return [seen[0], *sorted(seen[1:])] if seen else []


def graphs(pipeline: Pipeline) -> list[Pipeline]:
    """The pipeline and every pipeline used as a step inside it, nested ones included."""
    out = [pipeline]
    for component in pipeline.components.values():
        if component.pipeline is not None:
            out += graphs(component.pipeline)
    return out
