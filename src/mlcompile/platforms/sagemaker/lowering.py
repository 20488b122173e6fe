"""Lowering the IR into the flat shape SageMaker runs: one list of steps and condition steps.

SageMaker has no loops, no nested pipelines and no merge of branch outputs, so this pass
unrolls literal fan-outs (``fit-0``, ``fit-1``, ...), inlines nested pipelines under a prefix
(``prepare-split``), resolves every reference to the step that really produces it, and moves
the steps that read ``merge(a, b)``, with the later steps and conditions reading them, into both
branches of the condition (``announce-if`` reads ``a``, ``announce-else`` reads ``b``; exactly
one of them runs). What cannot be lowered becomes a located diagnostic; refusals of whole
features are the support table's job. Names past SageMaker's 64 characters are shortened when
the definition is emitted (:mod:`.names`).
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
    #: Environment variables: literal text, or the value a parameter is bound to here.
    env: dict[str, str | FlatValue] = field(default_factory=dict)

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
        path = scope.path(task.name)
        env = {
            k: v if isinstance(v, str) else self.value(v, scope)
            for k, v in task.options.env.items()
        }
        task = self.resolve_options(task, scope)
        return [FlatTask(name, task, component, inputs, after, secrets, path, env)]

    def resolve_options(self, task: ir.Task, scope: _Scope) -> ir.Task:
        """Platform options and the image given by a nested pipeline's parameter, as what the
        enclosing pipeline passed: a literal, or a parameter of the pipeline being compiled."""
        if isinstance(task.options.image, ir.ParamRef):
            found = self.value(task.options.image, scope)
            image = found.value if isinstance(found, ir.Literal) else found
            options = task.options.model_copy(update={"image": image})
            task = task.model_copy(update={"options": options})
        given = task.options.platform_options.get("sagemaker", {})
        resolved = dict(given)
        for key, value in given.items():
            name = ir.option_parameter(value)
            if name is None:
                continue
            found = self.value(ir.ParamRef(name=name), scope)
            if isinstance(found, ir.Literal):
                resolved[key] = found.value
            elif isinstance(found, ir.ParamRef):
                resolved[key] = {**value, ir.PARAMETER_MARKER: found.name}
        if resolved == given:
            return task
        platform_options = {**task.options.platform_options, "sagemaker": resolved}
        options = task.options.model_copy(update={"platform_options": platform_options})
        return task.model_copy(update={"options": options})

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
        if isinstance(value, ir.RunStatusRef):  # final() is refused: nothing reads it here
            return ir.Literal(value=None)
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
#
# SageMaker has no value that is "whichever branch ran": a step outside a condition that reads a
# step inside one waits for it, and is not run when the branch was not taken. So the steps that
# read merge(a, b) of a condition, with every later step of the same level that reads them (or
# runs .after() them), are placed in both branches: the copy in when() reads a and is named
# <step>-if, the copy in otherwise() reads b and is named <step>-else; exactly one runs.


def _values(node: FlatNode) -> list[FlatValue]:
    """Every value a node reads (a condition's comparisons and its branches' steps too)."""
    if isinstance(node, FlatTask):
        return [*node.inputs.values(), *(s.name for s in node.secrets)]
    out: list[FlatValue] = list(_compared(node.condition))
    for inner in (*node.then, *node.otherwise):
        out.extend(_values(inner))
    return out


def _compared(condition: FlatCondition) -> list[FlatValue]:
    if isinstance(condition, FlatCompare):
        return [condition.left, condition.right]
    return [v for operand in condition.operands for v in _compared(operand)]


def _parts(value: FlatValue) -> list[FlatValue]:
    """``value`` and every value inside it."""
    if isinstance(value, Template):
        return [value, *(q for p in value.parts if not isinstance(p, str) for q in _parts(p))]
    if isinstance(value, Collected):
        return [value, *(q for v in value.items for q in _parts(v))]
    if isinstance(value, OneOf):
        return [value, *(q for v in value.options for q in _parts(v))]
    return [value]


def _after(node: FlatNode) -> set[str]:
    if isinstance(node, FlatTask):
        return set(node.after)
    return {a for inner in (*node.then, *node.otherwise) for a in _after(inner)}


def _defined(node: FlatNode) -> set[str]:
    """The step names a node makes: a task's, or a condition's and all inside it."""
    if isinstance(node, FlatTask):
        return {node.name}
    return {node.name} | {n for inner in (*node.then, *node.otherwise) for n in _defined(inner)}


def _reads(node: FlatNode, names: set[str]) -> bool:
    """Whether ``node`` reads a result of, or runs after, a step named in ``names``."""
    steps = {
        p.step for v in _values(node) for p in _parts(v) if isinstance(p, StepOutput | StepMetric)
    }
    return bool(steps & names or _after(node) & names)


def _one_ofs(node: FlatNode) -> list[OneOf]:
    return [p for v in _values(node) for p in _parts(v) if isinstance(p, OneOf)]


@dataclass(frozen=True)
class _Sides:
    """The steps directly in each branch of one condition."""

    then: frozenset[str]
    otherwise: frozenset[str]

    def side(self, value: FlatValue) -> str | None:
        if isinstance(value, StepOutput):
            if value.step in self.then:
                return "if"
            if value.step in self.otherwise:
                return "else"
        return None

    def merges(self, one_of: OneOf) -> bool:
        return any(self.side(o) for o in one_of.options)


def _copy(node: FlatNode, suffix: str, names: set[str], sides: _Sides) -> FlatNode:
    """``node`` as placed in one branch: steps named in ``names`` renamed with ``suffix``, and
    each merge of that condition read as the branch's own value."""

    def name(step: str) -> str:
        return f"{step}-{suffix}" if step in names else step

    def value(v: FlatValue) -> FlatValue:
        if isinstance(v, StepOutput):
            return StepOutput(name(v.step), v.output)
        if isinstance(v, StepMetric):
            return StepMetric(name(v.step), v.output, v.key)
        if isinstance(v, Template):
            return Template(tuple(p if isinstance(p, str) else value(p) for p in v.parts))
        if isinstance(v, Collected):
            return Collected(tuple(value(i) for i in v.items))
        if isinstance(v, OneOf):
            if sides.merges(v):
                return value(next(o for o in v.options if sides.side(o) == suffix))
            return OneOf(tuple(value(o) for o in v.options))
        return v

    def condition(c: FlatCondition) -> FlatCondition:
        if isinstance(c, FlatCompare):
            return FlatCompare(c.op, value(c.left), value(c.right))
        return FlatBool(c.kind, tuple(condition(o) for o in c.operands))

    if isinstance(node, FlatTask):
        return replace(
            node,
            name=name(node.name),
            inputs={k: value(v) for k, v in node.inputs.items()},
            after=tuple(name(a) for a in node.after),
            secrets=tuple(replace(s, name=value(s.name)) for s in node.secrets),
        )
    return FlatBranch(
        name=name(node.name),
        condition=condition(node.condition),
        then=[_copy(n, suffix, names, sides) for n in node.then],
        otherwise=[_copy(n, suffix, names, sides) for n in node.otherwise],
        location=node.location,
        path=node.path,
    )


def _sink_problem(moved: list[FlatNode], sides: _Sides, names: set[str]) -> str:
    for node in moved:
        for one_of in _one_ofs(node):
            found = {sides.side(o) for o in one_of.options}
            if sides.merges(one_of):
                if len(one_of.options) != 2 or None in found:
                    return "its values must come from the two branches of one when()/otherwise() at the same level"
                if found != {"if", "else"}:
                    return "one value must come from when() and the other from otherwise()"
            elif not all(isinstance(o, StepOutput) and o.step in names for o in one_of.options):
                return "all merged values must come from the same condition"
    return ""


def _sink_into(plan: Plan, nodes: list[FlatNode], branch: FlatBranch, reporter: Reporter) -> None:
    """Place the steps of ``nodes`` after ``branch`` that read its merges (and the later steps
    that read those) in both of its branches."""
    sides = _Sides(
        frozenset(t.name for t in branch.then if isinstance(t, FlatTask)),
        frozenset(t.name for t in branch.otherwise if isinstance(t, FlatTask)),
    )
    moved: list[FlatNode] = []
    names: set[str] = set()
    for node in nodes[nodes.index(branch) + 1 :]:
        if any(sides.merges(o) for o in _one_ofs(node)) or _reads(node, names):
            moved.append(node)
            names |= _defined(node)
    if not moved:
        return
    problem = _sink_problem(moved, sides, names)
    if problem:
        consumer = next(
            (n for n in moved if isinstance(n, FlatTask) and _one_ofs(n)),
            next(n for n in moved if _one_ofs(n)),
        )
        where = consumer.task.name if isinstance(consumer, FlatTask) else consumer.name
        reporter.error(
            "MLC401",
            f"sagemaker does not support merge() here (used by {where}): {problem}",
            consumer.location,
            "read each branch's value inside that branch (one step per branch) instead of merging",
            where,
        )
        _drop_merges(moved)
        return
    for suffix, body in (("if", branch.then), ("else", branch.otherwise)):
        body.extend(_copy(node, suffix, names, sides) for node in moved)
    for node in moved:
        nodes.remove(node)
    for key, value in plan.outputs.items():
        plan.outputs[key] = _either(value, names)


def _either(value: FlatValue, names: set[str]) -> FlatValue:
    """A pipeline output of a step now in both branches: whichever copy ran."""
    if isinstance(value, StepOutput | StepMetric) and value.step in names:
        return OneOf(tuple(replace(value, step=f"{value.step}-{s}") for s in ("if", "else")))
    if isinstance(value, Collected):
        return Collected(tuple(_either(v, names) for v in value.items))
    if isinstance(value, Template):
        return Template(tuple(p if isinstance(p, str) else _either(p, names) for p in value.parts))
    return value


def _drop_merges(nodes: list[FlatNode]) -> None:
    """Read a refused merge's first value, so the rest of the compile still reports."""

    def first(v: FlatValue) -> FlatValue:
        if isinstance(v, OneOf):
            return first(v.options[0])
        if isinstance(v, Template):
            return Template(tuple(p if isinstance(p, str) else first(p) for p in v.parts))
        if isinstance(v, Collected):
            return Collected(tuple(first(i) for i in v.items))
        return v

    def condition(c: FlatCondition) -> FlatCondition:
        if isinstance(c, FlatCompare):
            return FlatCompare(c.op, first(c.left), first(c.right))
        return FlatBool(c.kind, tuple(condition(o) for o in c.operands))

    for node in nodes:
        if isinstance(node, FlatTask):
            node.inputs.update({k: first(v) for k, v in node.inputs.items()})
        else:
            node.condition = condition(node.condition)
            _drop_merges(node.then)
            _drop_merges(node.otherwise)


def _push_merges(plan: Plan, nodes: list[FlatNode], reporter: Reporter) -> None:
    for branch in [n for n in nodes if isinstance(n, FlatBranch)]:
        if branch in nodes:  # not itself moved into an earlier condition's branches
            _sink_into(plan, nodes, branch, reporter)
    for node in nodes:
        if isinstance(node, FlatBranch):
            _push_merges(plan, node.then, reporter)
            _push_merges(plan, node.otherwise, reporter)
    left: list[FlatNode] = [n for n in nodes if isinstance(n, FlatTask) and _one_ofs(n)]
    if left:
        for node in left:
            assert isinstance(node, FlatTask)
            reporter.error(
                "MLC401",
                f"sagemaker does not support merge() here (used by {node.task.name}): its values"
                " must come from the two branches of one when()/otherwise() at the same level",
                node.location,
                "read each branch's value inside that branch (one step per branch) instead of merging",
                node.task.name,
            )
        _drop_merges(left)


def lower(pipeline: ir.Pipeline, sink: DiagnosticSink) -> Plan:
    """The flat plan of ``pipeline``; problems are added to ``sink``."""
    flattener = _Flattener(sink)
    scope = _Scope(pipeline, "", {p.name: ir.ParamRef(name=p.name) for p in pipeline.parameters})
    body = flattener.body(pipeline.body, scope)
    outputs = {o.name: flattener.value(o.source, scope) for o in pipeline.outputs}
    plan = Plan(body, outputs, flattener.parallelism)
    _push_merges(plan, plan.body, flattener)
    return plan
