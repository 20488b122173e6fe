"""Which steps can run now: the IR's control flow evaluated as results come in.

A body of nodes runs in a scope. A condition, once its values are known, opens a scope for the
branch taken; a loop opens one scope per item (at most ``parallelism`` unfinished at a time); a
nested pipeline opens a frame of its own. A reference to another task is looked up from the
referring scope: up to the scope that encloses the target, then down through the branch that
ran or, for ``collect()``, through every iteration of the loop. The scheduler does no I/O except
reading a Metrics artifact for a metric condition; the runner starts the tasks it hands out.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlcompile.dsl.artifacts import Metrics
from mlcompile.ir import nodes as ir
from mlcompile.ir.describe import condition_text
from mlcompile.ir.walk import Scope, iter_nodes, scoped_tasks
from mlcompile.local.values import ArtifactValue, as_text

#: Statuses after which a node never changes again.
SETTLED = frozenset({"done", "failed", "skipped", "upstream_failed", "interrupted"})

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Pending(Exception):
    """A value is not known yet: a task it comes from has not finished."""


class _Unavailable(Exception):
    """A value will never exist: its task was skipped or did not succeed."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _Invalid(Exception):
    """A value exists but cannot be used (a missing metric key, a non-list to fan out over)."""


@dataclass(eq=False)
class Frame:
    """One pipeline being run: the root, or a nested pipeline called as a step."""

    pipeline: ir.Pipeline
    params: dict[str, Any]
    prefix: str
    chains: dict[str, tuple[Scope, ...]]
    failures: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, pipeline: ir.Pipeline, params: dict[str, Any], prefix: str) -> Frame:
        chains = {
            st.task.name: () if st.scopes == (("final", ""),) else st.scopes
            for st in scoped_tasks(pipeline)
        }
        return cls(pipeline, params, prefix, chains)


@dataclass(eq=False)
class ScopeRun:
    """One instance of a body: the pipeline's, a branch's, or one loop iteration's."""

    frame: Frame
    chain: tuple[Scope, ...]
    suffix: str
    items: dict[str, Any]
    parent: ScopeRun | None
    nodes: dict[str, NodeRun] = field(default_factory=dict)


@dataclass(eq=False)
class NodeRun:
    node: ir.Task | ir.Condition | ir.Loop
    scope: ScopeRun
    status: str = "pending"
    outputs: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    branch: str | None = None
    items: list[Any] | None = None
    children: list[ScopeRun] = field(default_factory=list)
    final: bool = False

    @property
    def task(self) -> ir.Task:
        assert isinstance(self.node, ir.Task)
        return self.node

    @property
    def name(self) -> str:
        """The display name: nested pipelines as ``outer/inner``, loop items as ``step[2]``."""
        label = self.node.name if isinstance(self.node, ir.Task) else self.node.id
        return self.scope.frame.prefix + label + self.scope.suffix

    @property
    def opens_scopes(self) -> bool:
        """Conditions, loops and nested pipelines finish when the scopes they open do."""
        return not isinstance(self.node, ir.Task) or self.component.kind == "pipeline"

    @property
    def component(self) -> ir.Component:
        return self.scope.frame.pipeline.components[self.task.component]


@dataclass(frozen=True)
class Ready:
    """A task whose inputs are all known: the runner runs it (or finds it in the cache)."""

    node: NodeRun
    inputs: dict[str, Any]
    secrets: list[tuple[ir.SecretRef, str]]
    #: The step's environment variables, parameters given as their value's text.
    env: dict[str, str]
    #: The image the step names (a parameter's value), or None for its component's.
    image: str | None = None


class Scheduler:
    def __init__(self, pipeline: ir.Pipeline, params: dict[str, Any]) -> None:
        self.root = self._open_frame(Frame.of(pipeline, params, ""))
        self._open: list[ScopeRun] = [self.root]

    @property
    def finished(self) -> bool:
        return not self._open

    def advance(self) -> tuple[list[Ready], list[NodeRun]]:
        """Tasks ready to start (now marked running), and tasks settled without running."""
        ready: list[Ready] = []
        unrun: list[NodeRun] = []
        progress = True
        while progress:
            progress = False
            for scope in list(self._open):
                for node in list(scope.nodes.values()):
                    if node.status == "pending":
                        progress |= self._try_start(node, ready, unrun)
                    elif node.status == "running" and node.opens_scopes:
                        progress |= self._try_complete(node, unrun)
                if all(n.status in SETTLED for n in scope.nodes.values()):
                    self._open.remove(scope)
                    progress = True
        return ready, unrun

    def finish(self, node: NodeRun, status: str, outputs: dict[str, Any], message: str) -> None:
        node.status, node.outputs, node.message = status, outputs, message
        if status == "failed":
            node.scope.frame.failures.append(node.name)

    def outputs(self, scope: ScopeRun | None = None) -> dict[str, Any]:
        """The pipeline's declared outputs that could be computed."""
        scope = scope or self.root
        found: dict[str, Any] = {}
        for output in scope.frame.pipeline.outputs:
            try:
                found[output.name] = self.resolve(scope, output.source)
            except (_Pending, _Unavailable, _Invalid):
                continue
        return found

    # ----- starting and completing nodes ------------------------------------------------------

    def _try_start(self, node: NodeRun, ready: list[Ready], unrun: list[NodeRun]) -> bool:
        scope = node.scope
        if node.final and any(
            n.status not in SETTLED for n in scope.nodes.values() if n is not node
        ):
            return False
        try:
            if isinstance(node.node, ir.Task):
                self._start_task(node, ready)
            elif isinstance(node.node, ir.Condition):
                self._start_condition(node, unrun)
            else:
                self._start_loop(node)
        except _Pending:
            return False
        except _Unavailable as exc:
            node.status, node.message = exc.status, exc.reason
            unrun.extend(self._unrun(node, exc.status, exc.reason))
        except _Invalid as exc:
            node.status, node.message = "failed", str(exc)
            scope.frame.failures.append(node.name)
            unrun.append(node)
        return True

    def _start_task(self, node: NodeRun, ready: list[Ready]) -> None:
        task, scope = node.task, node.scope
        for name in task.after:
            self._expect_done(self._find(scope, name)[0])
        inputs = {name: self.resolve(scope, value) for name, value in task.inputs.items()}
        secrets = [(s, str(self.resolve(scope, s.name))) for s in task.options.secrets]
        env = {
            k: v if isinstance(v, str) else as_text(self.resolve(scope, v))
            for k, v in task.options.env.items()
        }
        component = node.component
        if component.kind == "pipeline":
            assert component.pipeline is not None
            params = {p.name: p.default for p in component.inputs if p.has_default}
            child = Frame.of(component.pipeline, {**params, **inputs}, node.name + "/")
            node.children = [self._open_frame(child)]
            self._open.append(node.children[0])
            node.status = "running"
            return
        node.status = "running"
        image = task.options.image
        if isinstance(image, ir.ParamRef):
            image = as_text(self.resolve(scope, image))
        ready.append(Ready(node, inputs, secrets, env, image))

    def _start_condition(self, node: NodeRun, unrun: list[NodeRun]) -> None:
        cond = node.node
        assert isinstance(cond, ir.Condition)
        holds = self._evaluate(node.scope, cond.condition)
        node.branch = "then" if holds else "otherwise"
        taken = cond.then if holds else cond.otherwise
        other = cond.otherwise if holds else cond.then
        sources = {**self.root.frame.pipeline.sources, **node.scope.frame.pipeline.sources}
        written = f"when({condition_text(sources, cond)})"
        reason = (
            f"{written} was true, so its otherwise() branch did not run"
            if holds
            else f"{written} was false"
        )
        unrun.extend(self._unrun_body(node.scope, other or (), "skipped", reason))
        if taken:
            node.children = [self._child(node, node.branch, taken, node.scope.suffix, {})]
            node.status = "running"
        else:
            node.status = "done"

    def _start_loop(self, node: NodeRun) -> None:
        loop = node.node
        assert isinstance(loop, ir.Loop)
        items = self.resolve(node.scope, loop.items)
        if not isinstance(items, list):
            raise _Invalid(f"{loop.id} fans out over {as_text(items)!r}, which is not a list")
        node.items = items
        node.status = "running"
        self._try_complete(node, [])

    def _try_complete(self, node: NodeRun, unrun: list[NodeRun]) -> bool:
        if isinstance(node.node, ir.Loop):
            assert node.items is not None
            limit = node.node.parallelism or len(node.items)
            started = False
            while len(node.children) < len(node.items) and (
                sum(1 for c in node.children if not _settled(c)) < limit
            ):
                i = len(node.children)
                items = {node.node.id: node.items[i]}
                node.children.append(
                    self._child(node, "loop", node.node.body, f"{node.scope.suffix}[{i}]", items)
                )
                started = True
            if len(node.children) == len(node.items) and all(_settled(c) for c in node.children):
                node.status = "done"
                return True
            return started
        if not all(_settled(c) for c in node.children):
            return False
        if isinstance(node.node, ir.Task):
            self._complete_nested(node, unrun)
        else:
            node.status = "done"
        return True

    def _complete_nested(self, node: NodeRun, unrun: list[NodeRun]) -> None:
        child = node.children[0]
        if child.frame.failures:
            node.status = "failed"
            node.message = "failed inside: " + ", ".join(child.frame.failures)
            node.scope.frame.failures.append(node.name)
            return
        outputs = self.outputs(child)
        missing = [o.name for o in child.frame.pipeline.outputs if o.name not in outputs]
        if missing:
            node.status = "failed"
            node.message = f"the nested pipeline produced no {', '.join(missing)}"
            node.scope.frame.failures.append(node.name)
            return
        node.status, node.outputs = "done", outputs

    def _open_frame(self, frame: Frame) -> ScopeRun:
        scope = ScopeRun(frame, (), "", {}, None)
        _fill(scope, frame.pipeline.body)
        if frame.pipeline.final is not None:
            final = NodeRun(frame.pipeline.final, scope, final=True)
            scope.nodes["task:" + frame.pipeline.final.name] = final
        return scope

    def _child(
        self,
        node: NodeRun,
        kind: str,
        body: tuple[ir.BodyNode, ...],
        suffix: str,
        items: dict[str, Any],
    ) -> ScopeRun:
        parent = node.scope
        ident = node.node.id if not isinstance(node.node, ir.Task) else node.node.name
        scope = ScopeRun(
            parent.frame, (*parent.chain, (kind, ident)), suffix, {**parent.items, **items}, parent
        )
        _fill(scope, body)
        self._open.append(scope)
        return scope

    def _unrun(self, node: NodeRun, status: str, reason: str) -> list[NodeRun]:
        if isinstance(node.node, ir.Task):
            return [node]
        bodies = (
            (node.node.then, node.node.otherwise or ())
            if isinstance(node.node, ir.Condition)
            else (node.node.body,)
        )
        return [n for body in bodies for n in self._unrun_body(node.scope, body, status, reason)]

    @staticmethod
    def _unrun_body(
        scope: ScopeRun, body: tuple[ir.BodyNode, ...], status: str, reason: str
    ) -> list[NodeRun]:
        """Records for the tasks of a body that will not run, for the summary and lineage."""
        return [
            NodeRun(task, scope, status=status, message=reason)
            for task in iter_nodes(body)
            if isinstance(task, ir.Task)
        ]

    # ----- values ------------------------------------------------------------------------------

    def _run_status(self) -> dict[str, Any]:
        """How every step but the final one ended (the final step starts after all settled)."""
        failed = [n for n in _failed(self.root) if not n.final]
        return _status(failed)

    def resolve(self, scope: ScopeRun, value: ir.Value) -> Any:
        """A value as the consuming step sees it; raises while it is not known yet."""
        if isinstance(value, ir.Literal):
            return value.value
        if isinstance(value, ir.ParamRef):
            return scope.frame.params.get(value.name)
        if isinstance(value, ir.LoopItemRef):
            item = scope.items[value.loop]
            if value.key is None:
                return item
            if not isinstance(item, dict) or value.key not in item:
                raise _Invalid(f"the item {as_text(item)} of {value.loop} has no key {value.key!r}")
            return item[value.key]
        if isinstance(value, ir.RunStatusRef):
            return self._run_status()
        if isinstance(value, ir.OutputRef):
            return self._output(self._find(scope, value.task)[0], value.output)
        if isinstance(value, ir.CollectedRef):
            nodes = self._find(scope, value.task)
            return [self._output(n, value.output) for n in nodes if n.status != "skipped"]
        if isinstance(value, ir.OneOfRef):
            return self._one_of(scope, value)
        if isinstance(value, ir.MetricRef):
            artifact = self._output(self._find(scope, value.task)[0], value.output)
            return _metric(artifact, value)
        return "".join(
            part if isinstance(part, str) else as_text(self.resolve(scope, part))
            for part in value.parts
        )

    def _one_of(self, scope: ScopeRun, value: ir.OneOfRef) -> Any:
        waiting = False
        statuses: list[_Unavailable] = []
        for option in value.options:
            try:
                return self.resolve(scope, option)
            except _Pending:
                waiting = True
            except _Unavailable as exc:
                statuses.append(exc)
        if waiting:
            raise _Pending
        failed = [e for e in statuses if e.status == "upstream_failed"]
        raise (failed or statuses)[0]

    def _evaluate(self, scope: ScopeRun, expr: ir.ConditionExpr) -> bool:
        if isinstance(expr, ir.Compare):
            left, right = self.resolve(scope, expr.left), self.resolve(scope, expr.right)
            try:
                return bool(_COMPARE[expr.op](left, right))
            except TypeError:
                raise _Invalid(
                    f"cannot compare {as_text(left)!r} {expr.op} {as_text(right)!r}"
                ) from None
        if isinstance(expr, ir.AllOf):
            return all(self._evaluate(scope, e) for e in expr.operands)
        if isinstance(expr, ir.AnyOf):
            return any(self._evaluate(scope, e) for e in expr.operands)
        return not self._evaluate(scope, expr.operand)

    def _output(self, node: NodeRun, output: str) -> Any:
        self._expect_done(node)
        return node.outputs[output]

    @staticmethod
    def _expect_done(node: NodeRun) -> None:
        if node.status == "done":
            return
        if node.status == "skipped":
            raise _Unavailable("skipped", f"{node.name} was skipped")
        raise _Unavailable("upstream_failed", f"{node.name} did not succeed")

    def _find(self, scope: ScopeRun, task: str) -> list[NodeRun]:
        """The settled instance(s) of ``task`` visible from ``scope``."""
        chain = scope.frame.chains[task]
        outer: ScopeRun | None = scope
        while outer is not None and outer.chain != chain[: len(outer.chain)]:
            outer = outer.parent
        assert outer is not None, f"{task} is not visible from {scope.chain}"
        return self._descend(outer, chain[len(outer.chain) :], task)

    def _descend(self, scope: ScopeRun, rest: tuple[Scope, ...], task: str) -> list[NodeRun]:
        if not rest:
            node = scope.nodes["task:" + task]
            if node.status not in SETTLED:
                raise _Pending
            return [node]
        kind, ident = rest[0]
        holder = scope.nodes["node:" + ident]
        if holder.status in ("skipped", "upstream_failed", "failed", "interrupted"):
            status = "skipped" if holder.status == "skipped" else "upstream_failed"
            raise _Unavailable(status, f"{task} did not run: {holder.message or ident}")
        if kind == "loop":
            # A loop is a barrier, as on Kubeflow (whatever reads it depends on the whole
            # for-loop task): nothing outside reads it until every iteration has settled, and
            # nothing does if one of them failed.
            if holder.status != "done":
                raise _Pending
            failed = [n.name for child in holder.children for n in _failed(child)]
            if failed:
                raise _Unavailable(
                    "upstream_failed", f"{task} is read after {ident}, in which {failed[0]} failed"
                )
            return [n for child in holder.children for n in self._descend(child, rest[1:], task)]
        if holder.branch is None:
            raise _Pending
        if holder.branch != kind:
            raise _Unavailable("skipped", f"{task} did not run: {ident} took the other branch")
        if not holder.children:
            raise _Unavailable("skipped", f"{task} did not run")
        return self._descend(holder.children[0], rest[1:], task)


def _fill(scope: ScopeRun, body: tuple[ir.BodyNode, ...]) -> None:
    for node in body:
        key = ("task:" + node.name) if isinstance(node, ir.Task) else ("node:" + node.id)
        scope.nodes[key] = NodeRun(node, scope)


def _status(failed: list[NodeRun]) -> dict[str, Any]:
    """The run's status as the final step receives it: KFP's PipelineTaskFinalStatus shape."""
    error: dict[str, Any] = {}
    if failed:
        names = ", ".join(n.name for n in failed)
        error = {"code": 1, "message": f"failed: {names}"}
    state = "FAILED" if failed else "SUCCEEDED"
    return {"state": state, "pipelineTaskName": "exit-handler", "error": error}


def _failed(scope: ScopeRun) -> list[NodeRun]:
    """The nodes of a scope, and of the scopes it opened, that failed or could not run."""
    found = []
    for node in scope.nodes.values():
        if node.status in ("failed", "upstream_failed"):
            found.append(node)
        for child in node.children:
            found.extend(_failed(child))
    return found


def _settled(scope: ScopeRun) -> bool:
    return all(n.status in SETTLED for n in scope.nodes.values())


def _metric(artifact: Any, ref: ir.MetricRef) -> float:
    if not isinstance(artifact, ArtifactValue):
        raise _Invalid(f"{ref.task}.{ref.output} is not a Metrics artifact")
    try:
        return Metrics(artifact.path).get(ref.key)
    except KeyError as exc:
        raise _Invalid(f"{ref.task}.{ref.output}: {exc.args[0]}") from None
    except (OSError, ValueError) as exc:
        raise _Invalid(f"cannot read the metrics of {ref.task}.{ref.output}: {exc}") from None
