"""Lowering the IR into the flat shape SageMaker runs: one list of steps and condition steps.

SageMaker has no loops, no nested pipelines and no merge of branch outputs, so this pass
unrolls literal fan-outs (``fit-0``, ``fit-1``, ...), inlines nested pipelines under a prefix
(``prepare-split``), resolves every reference to the step that really produces it, and moves a
step that reads ``merge(a, b)`` into both branches of the condition (``announce-if`` reads
``a``, ``announce-else`` reads ``b``; exactly one of them runs). What cannot be lowered becomes
a located diagnostic; refusals of whole features are the support table's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mlcompile.errors import DiagnosticSink
from mlcompile.ir import nodes as ir

PLATFORM = "sagemaker"


# ----- flat values ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepOutput:
    """Output ``output`` of the SageMaker step ``step``."""

    step: str
    output: str


@dataclass(frozen=True)
class StepMetric:
    step: str
    output: str
    key: str


@dataclass(frozen=True)
class Template:
    parts: tuple[str | FlatValue, ...]


@dataclass(frozen=True)
class Collected:
    """Fan-in: the values of every unrolled copy of a step, in item order."""

    items: tuple[FlatValue, ...]


@dataclass(frozen=True)
class OneOf:
    options: tuple[FlatValue, ...]


FlatValue = ir.Literal | ir.ParamRef | StepOutput | StepMetric | Template | Collected | OneOf


@dataclass(frozen=True)
class FlatCompare:
    op: ir.CompareOp
    left: FlatValue
    right: FlatValue


@dataclass(frozen=True)
class FlatBool:
    kind: str  # "and" | "or" | "not"
    operands: tuple[FlatCondition, ...]


FlatCondition = FlatCompare | FlatBool


@dataclass(frozen=True)
class FlatSecret:
    env: str
    name: FlatValue
    key: str | None


@dataclass(frozen=True)
class FlatTask:
    name: str
    task: ir.Task
    component: ir.Component
    inputs: dict[str, FlatValue]
    after: tuple[str, ...]
    secrets: tuple[FlatSecret, ...]
    #: The IR step as runs show it: ``outer/inner`` in a nested pipeline, ``step[2]`` in a loop.
    path: str = ""

    @property
    def location(self) -> ir.Location:
        return self.task.location


@dataclass
class FlatBranch:
    name: str
    condition: FlatCondition
    then: list[FlatNode]
    otherwise: list[FlatNode]
    location: ir.Location
    path: str = ""


FlatNode = FlatTask | FlatBranch


@dataclass
class Plan:
    body: list[FlatNode]
    outputs: dict[str, FlatValue]
    #: The smallest ``parallelism`` of any unrolled fan-out, or None.
    parallelism: int | None = None

    def tasks(self) -> list[FlatTask]:
        out: list[FlatTask] = []

        def visit(nodes: list[FlatNode]) -> None:
            for node in nodes:
                if isinstance(node, FlatTask):
                    out.append(node)
                else:
                    visit(node.then)
                    visit(node.otherwise)

        visit(self.body)
        return out


# ----- flattening ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Produced:
    """What a task of some scope became: one step, or a nested pipeline's outputs."""

    step: str | None
    outputs: dict[str, FlatValue]
    steps: tuple[str, ...]


@dataclass
class _Scope:
    pipeline: ir.Pipeline
    prefix: str
    params: dict[str, FlatValue]
    after: tuple[str, ...] = ()
    #: What runs show in front of this scope's step names (``outer/`` in a nested pipeline).
    display: str = ""
    iteration: dict[str, int] = field(default_factory=dict)
    items: dict[str, Any] = field(default_factory=dict)
    produced: dict[str, list[tuple[dict[str, int], _Produced]]] = field(default_factory=dict)

    def suffix(self) -> str:
        return "".join(f"-{i}" for i in self.iteration.values())

    def path(self, name: str) -> str:
        """``name`` as runs show it: ``outer/`` in front, ``[i]`` for each enclosing loop."""
        return self.display + name + "".join(f"[{i}]" for i in self.iteration.values())


class Reporter:
    """Located SageMaker diagnostics into a sink, for the passes that find them."""

    sink: DiagnosticSink

    def error(self, code: str, message: str, where: ir.Location, hint: str, step: str) -> None:
        self.sink.error(code, message, where.source(), hint, platform=PLATFORM, step=step)

    def warn(self, code: str, message: str, where: ir.Location, hint: str, step: str) -> None:
        from mlcompile.errors import Diagnostic

        self.sink.add(Diagnostic(code, message, where.source(), hint, "warning", PLATFORM, step))


class _Flattener(Reporter):
    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink
        self.parallelism: int | None = None

    def body(self, nodes: tuple[ir.BodyNode, ...], scope: _Scope) -> list[FlatNode]:
        out: list[FlatNode] = []
        for node in nodes:
            if isinstance(node, ir.Task):
                out.extend(self.task(node, scope))
            elif isinstance(node, ir.Condition):
                out.append(
                    FlatBranch(
                        name=f"{scope.prefix}{node.id}{scope.suffix()}",
                        condition=self.condition(node.condition, scope),
                        then=self.body(node.then, scope),
                        otherwise=self.body(node.otherwise or (), scope),
                        location=node.location,
                        path=scope.path(node.id),
                    )
                )
            else:
                out.extend(self.loop(node, scope))
        return out

    def loop(self, node: ir.Loop, scope: _Scope) -> list[FlatNode]:
        if not isinstance(node.items, ir.Literal) or not isinstance(node.items.value, list):
            return []  # refused by the support table (fan-out over a run-time value)
        if node.parallelism is not None:
            self.parallelism = min(self.parallelism or node.parallelism, node.parallelism)
        out: list[FlatNode] = []
        key = f"{scope.prefix}{node.id}"
        for index, item in enumerate(node.items.value):
            scope.iteration[key] = index
            scope.items[node.id] = item
            out.extend(self.body(node.body, scope))
        scope.iteration.pop(key, None)
        scope.items.pop(node.id, None)
        return out

    def task(self, task: ir.Task, scope: _Scope) -> list[FlatNode]:
        component = scope.pipeline.components[task.component]
        name = f"{scope.prefix}{task.name}{scope.suffix()}"
        inputs = {k: self.value(v, scope) for k, v in task.inputs.items()}
        after = tuple(s for t in task.after for s in self.steps_of(t, scope)) + scope.after
        iteration = dict(scope.iteration)
        if component.kind == "pipeline" and component.pipeline is not None:
            nested = component.pipeline
            params = {
                p.name: inputs.get(p.name, ir.Literal(value=p.default)) for p in nested.parameters
            }
            inner = _Scope(nested, f"{name}-", params, after, f"{scope.path(task.name)}/")
            body = self.body(nested.body, inner)
            outputs = {o.name: self.value(o.source, inner) for o in nested.outputs}
            steps = tuple(t.name for t in Plan(body, {}).tasks())
            scope.produced.setdefault(task.name, []).append(
                (iteration, _Produced(None, outputs, steps))
            )
            return body
        secrets = tuple(
            FlatSecret(s.env, self.value(s.name, scope), s.key) for s in task.options.secrets
        )
        scope.produced.setdefault(task.name, []).append((iteration, _Produced(name, {}, (name,))))
        return [FlatTask(name, task, component, inputs, after, secrets, scope.path(task.name))]

    def _matching(self, task: str, scope: _Scope) -> list[_Produced]:
        found = []
        for iteration, produced in scope.produced.get(task, []):
            if all(scope.iteration.get(k, v) == v for k, v in iteration.items()):
                found.append(produced)
        return found

    def steps_of(self, task: str, scope: _Scope) -> tuple[str, ...]:
        return tuple(s for p in self._matching(task, scope) for s in p.steps)

    def output(self, task: str, output: str, scope: _Scope) -> list[FlatValue]:
        values: list[FlatValue] = []
        for produced in self._matching(task, scope):
            if produced.step is not None:
                values.append(StepOutput(produced.step, output))
            elif output in produced.outputs:
                values.append(produced.outputs[output])
        return values

    def value(self, value: ir.Value, scope: _Scope) -> FlatValue:
        if isinstance(value, ir.Literal):
            return value
        if isinstance(value, ir.ParamRef):
            return scope.params.get(value.name, value)
        if isinstance(value, ir.LoopItemRef):
            item = scope.items.get(value.loop)
            if value.key is not None and isinstance(item, dict):
                item = item.get(value.key)
            return ir.Literal(value=item)
        if isinstance(value, ir.OutputRef):
            found = self.output(value.task, value.output, scope)
            return found[0] if found else ir.Literal(value=None)
        if isinstance(value, ir.CollectedRef):
            return Collected(tuple(self.output(value.task, value.output, scope)))
        if isinstance(value, ir.MetricRef):
            found = self.output(value.task, value.output, scope)
            ref = found[0] if found else None
            if isinstance(ref, StepOutput):
                return StepMetric(ref.step, ref.output, value.key)
            return ir.Literal(value=None)
        if isinstance(value, ir.OneOfRef):
            return OneOf(tuple(self.value(o, scope) for o in value.options))
        return Template(
            tuple(p if isinstance(p, str) else self.value(p, scope) for p in value.parts)
        )

    def condition(self, expr: ir.ConditionExpr, scope: _Scope) -> FlatCondition:
        if isinstance(expr, ir.Compare):
            return FlatCompare(expr.op, self.value(expr.left, scope), self.value(expr.right, scope))
        if isinstance(expr, ir.Not):
            return FlatBool("not", (self.condition(expr.operand, scope),))
        kind = "and" if isinstance(expr, ir.AllOf) else "or"
        return FlatBool(kind, tuple(self.condition(o, scope) for o in expr.operands))


# ----- merge ---------------------------------------------------------------------------------


def _reads(value: FlatValue, step: str) -> bool:
    if isinstance(value, StepOutput | StepMetric):
        return value.step == step
    if isinstance(value, Template):
        return any(not isinstance(p, str) and _reads(p, step) for p in value.parts)
    if isinstance(value, Collected):
        return any(_reads(v, step) for v in value.items)
    if isinstance(value, OneOf):
        return any(_reads(v, step) for v in value.options)
    return False


def _branch_of(nodes: list[FlatNode], option: FlatValue) -> FlatBranch | None:
    """The condition whose then/else body directly holds the step producing ``option``."""
    if not isinstance(option, StepOutput):
        return None
    for node in nodes:
        if isinstance(node, FlatBranch):
            names = {t.name for t in (*node.then, *node.otherwise) if isinstance(t, FlatTask)}
            if option.step in names:
                return node
    return None


def _push_merges(plan: Plan, nodes: list[FlatNode], flattener: _Flattener) -> None:
    for node in list(nodes):
        if isinstance(node, FlatBranch):
            _push_merges(plan, node.then, flattener)
            _push_merges(plan, node.otherwise, flattener)
            continue
        merged = {k: v for k, v in node.inputs.items() if isinstance(v, OneOf)}
        if not merged:
            continue
        problem = _merge_problem(plan, nodes, node, merged)
        if problem:
            flattener.error(
                "MLC401",
                f"sagemaker does not support merge() here (used by {node.task.name}): {problem}",
                node.location,
                "read each branch's value inside that branch (one step per branch) instead of merging",
                node.task.name,
            )
            node.inputs.update({k: v.options[0] for k, v in merged.items()})
            continue
        branch = _branch_of(nodes, next(iter(merged.values())).options[0])
        assert branch is not None
        then_names = {t.name for t in branch.then if isinstance(t, FlatTask)}
        copies: dict[str, FlatTask] = {}
        for suffix, body in (("if", branch.then), ("else", branch.otherwise)):
            inputs = dict(node.inputs)
            for key, one_of in merged.items():
                inputs[key] = next(
                    o
                    for o in one_of.options
                    if isinstance(o, StepOutput) and (o.step in then_names) == (suffix == "if")
                )
            copy = replace(node, name=f"{node.name}-{suffix}", inputs=inputs)
            body.append(copy)
            copies[suffix] = copy
        nodes.remove(node)
        for name, value in plan.outputs.items():
            if isinstance(value, StepOutput) and value.step == node.name:
                plan.outputs[name] = OneOf(
                    tuple(StepOutput(c.name, value.output) for c in copies.values())
                )


def _merge_problem(
    plan: Plan, nodes: list[FlatNode], node: FlatTask, merged: dict[str, OneOf]
) -> str:
    branches = set()
    for one_of in merged.values():
        found = [_branch_of(nodes, o) for o in one_of.options]
        if len(one_of.options) != 2 or any(b is None for b in found) or found[0] is not found[1]:
            return "its values must come from the two branches of one when()/otherwise() at the same level"
        branch = found[0]
        assert branch is not None
        then_names = {t.name for t in branch.then if isinstance(t, FlatTask)}
        sides = {isinstance(o, StepOutput) and o.step in then_names for o in one_of.options}
        if sides != {True, False}:
            return "one value must come from when() and the other from otherwise()"
        branches.add(branch.name)
    if len(branches) > 1:
        return "all merged values must come from the same condition"
    for other in plan.tasks():
        if other is not node and any(_reads(v, node.name) for v in other.inputs.values()):
            return f"step {other.task.name!r} reads its result, and only a last step can move into both branches"
    return ""


def lower(pipeline: ir.Pipeline, sink: DiagnosticSink) -> Plan:
    """The flat plan of ``pipeline``; problems are added to ``sink``."""
    flattener = _Flattener(sink)
    scope = _Scope(pipeline, "", {p.name: ir.ParamRef(name=p.name) for p in pipeline.parameters})
    body = flattener.body(pipeline.body, scope)
    outputs = {o.name: flattener.value(o.source, scope) for o in pipeline.outputs}
    plan = Plan(body, outputs, flattener.parallelism)
    _push_merges(plan, plan.body, flattener)
    return plan
