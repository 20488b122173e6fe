"""Platform-independent validation of the IR: names, types, scopes, conditions, cycles.

Every problem is added to the sink; nothing raises here, so the user sees them all at once.
The same checks run on IR built by the DSL and on IR built any other way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlcompile.errors import DiagnosticSink
from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import Scope, ScopedTask, iter_nodes, scoped_tasks, task_refs, upstream_tasks

TASK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_NUMERIC = ("int", "float", "any")


def assignable(source: str, target: str) -> bool:
    """Whether a value of type ``source`` may flow into an input of type ``target``."""
    if source == target:
        return True
    if ir.is_list_of(source) or ir.is_list_of(target):
        return (
            ir.is_list_of(source)
            and ir.is_list_of(target)
            and assignable(ir.element_type(source), ir.element_type(target))
        )
    if ir.is_artifact_type(source) or ir.is_artifact_type(target):
        if not (ir.is_artifact_type(source) and ir.is_artifact_type(target)):
            return False
        return target == "Artifact" or (source, target) == ("RegisteredModel", "Model")
    return "any" in (source, target) or (source, target) == ("int", "float")


@dataclass(frozen=True)
class _Consumer:
    """Who reads a value: a task (with its scopes) or a block or output at some scopes."""

    what: str
    scopes: tuple[Scope, ...]
    location: ir.Location
    step: str | None = None


class _Validator:
    def __init__(self, pipeline: ir.Pipeline, sink: DiagnosticSink) -> None:
        self.p = pipeline
        self.sink = sink
        self.tasks: dict[str, ScopedTask] = {}
        self.loop_ids = {n.id for n in iter_nodes(pipeline.body) if isinstance(n, ir.Loop)}

    def error(
        self, code: str, message: str, where: ir.Location, hint: str, step: str | None = None
    ) -> None:
        self.sink.error(code, message, where.source(), hint, step=step)

    def run(self) -> None:
        for scoped in scoped_tasks(self.p):
            task = scoped.task
            if not TASK_NAME.match(task.name):
                self.error(
                    "MLC119",
                    f"step name {task.name!r} is not valid",
                    task.location,
                    "use letters, digits, '_' and '-', starting with a letter, at most 64 characters",
                    task.name,
                )
            if task.name in self.tasks:
                self.error(
                    "MLC104",
                    f"two steps are named {task.name!r}",
                    task.location,
                    "give each step call a unique name",
                    task.name,
                )
            self.tasks[task.name] = scoped
        for scoped in self.tasks.values():
            self.check_task(scoped)
        self.check_blocks(self.p.body, ())
        self.check_outputs()
        self.check_final()
        self.check_cycles()
        for component in self.p.components.values():
            if component.pipeline is not None:
                _Validator(component.pipeline, self.sink).run()

    # ----- values --------------------------------------------------------------------------

    def value_type(self, value: ir.Value, consumer: _Consumer) -> str | None:
        """The type of a value, after checking that the consumer may read it; None if broken."""
        if isinstance(value, ir.Literal):
            from mlcompile.dsl.trace import literal_type

            return "any" if value.value is None else literal_type(value.value)
        if isinstance(value, ir.ParamRef):
            param = self.p.parameter(value.name)
            if param is None:
                self.error(
                    "MLC101",
                    f"{consumer.what} reads unknown pipeline parameter {value.name!r}",
                    consumer.location,
                    "declare it as a parameter of the pipeline function",
                    consumer.step,
                )
                return None
            return param.type
        if isinstance(value, ir.LoopItemRef):
            if ("loop", value.loop) not in consumer.scopes:
                self.error(
                    "MLC105",
                    f"{consumer.what} reads the item of {value.loop} outside that for_each block",
                    consumer.location,
                    "use the loop item only inside its `with for_each(...)` block; collect() results after it",
                    consumer.step,
                )
                return None
            return "any" if value.key else self.loop_item_type(value.loop)
        if isinstance(value, ir.TemplateRef):
            for part in value.parts:
                if not isinstance(part, str):
                    self.value_type(part, consumer)
            return "str"
        if isinstance(value, ir.RunStatusRef):
            return ir.RUN_STATUS
        if isinstance(value, ir.OutputRef | ir.MetricRef):
            port_type = self.output_type(value.task, value.output, consumer)
            if port_type is None:
                return None
            if not self.in_scope(self.tasks[value.task].scopes, consumer.scopes):
                self.error(
                    "MLC105",
                    f"{consumer.what} reads {value.output!r} of step {value.task!r}, which is inside a "
                    "when/for_each block that does not enclose it",
                    consumer.location,
                    "read a conditional result through merge() of both branches, and a loop's results through collect()",
                    consumer.step,
                )
                return None
            if isinstance(value, ir.MetricRef):
                if port_type != "Metrics":
                    self.error(
                        "MLC106",
                        f"{consumer.what} reads key {value.key!r} of {value.task}.{value.output}, which is {port_type}, not Metrics",
                        consumer.location,
                        "read keys only from an Output[Metrics] artifact",
                        consumer.step,
                    )
                    return None
                return "float"
            return port_type
        if isinstance(value, ir.CollectedRef):
            return self.collected_type(value, consumer)
        return self.one_of_type(value, consumer)

    def output_type(self, task: str, output: str, consumer: _Consumer) -> str | None:
        scoped = self.tasks.get(task)
        if scoped is None:
            self.error(
                "MLC109",
                f"{consumer.what} reads output of unknown step {task!r}",
                consumer.location,
                "refer only to steps of this pipeline",
                consumer.step,
            )
            return None
        port = (
            self.p.components[scoped.task.component].output(output)
            if scoped.task.component in self.p.components
            else None
        )
        if port is None:
            self.error(
                "MLC109",
                f"{consumer.what} reads unknown output {output!r} of step {task!r}",
                consumer.location,
                "use an output the step declares",
                consumer.step,
            )
            return None
        if scoped.scopes and scoped.scopes[0][0] == "final":
            self.error(
                "MLC114",
                f"{consumer.what} reads an output of the final step {task!r}",
                consumer.location,
                "nothing runs after the final step; read its inputs instead",
                consumer.step,
            )
            return None
        return port.type

    @staticmethod
    def in_scope(source: tuple[Scope, ...], consumer: tuple[Scope, ...]) -> bool:
        return consumer[: len(source)] == source

    def loop_item_type(self, loop_id: str) -> str:
        for node in iter_nodes(self.p.body):
            if isinstance(node, ir.Loop) and node.id == loop_id:
                return node.item_type
        return "any"

    def collected_type(self, value: ir.CollectedRef, consumer: _Consumer) -> str | None:
        port_type = self.output_type(value.task, value.output, consumer)
        if port_type is None:
            return None
        source = self.tasks[value.task].scopes
        loops = [
            i
            for i, (kind, _) in enumerate(source)
            if kind == "loop" and source[i] not in consumer.scopes
        ]
        if not loops:
            self.error(
                "MLC116",
                f"{consumer.what} collects {value.task}.{value.output}, which is not inside a for_each block that ended",
                consumer.location,
                "collect() a step output from inside a `with for_each(...)` block, after that block",
                consumer.step,
            )
            return None
        first = loops[0]
        if first != len(source) - 1 or not self.in_scope(source[:first], consumer.scopes):
            self.error(
                "MLC116",
                f"{consumer.what} collects {value.task}.{value.output} across nested blocks",
                consumer.location,
                "collect from a step directly inside one for_each block, outside any when block in it",
                consumer.step,
            )
            return None
        return f"list[{port_type}]" if ir.is_artifact_type(port_type) else "list"

    def one_of_type(self, value: ir.OneOfRef, consumer: _Consumer) -> str | None:
        types = []
        branches: set[Scope] = set()
        parents: set[tuple[Scope, ...]] = set()
        for option in value.options:
            port_type = self.output_type(option.task, option.output, consumer)
            if port_type is None:
                return None
            types.append(port_type)
            scopes = self.tasks[option.task].scopes
            split = next(
                (
                    i
                    for i, s in enumerate(scopes)
                    if s[0] in ("then", "otherwise") and s not in consumer.scopes
                ),
                None,
            )
            if split is None:
                self.error(
                    "MLC113",
                    f"{consumer.what} merges {option.task}.{option.output}, which is not inside a when/otherwise branch",
                    consumer.location,
                    "merge() outputs of the branches of one when/otherwise, after that block",
                    consumer.step,
                )
                return None
            branches.add(scopes[split])
            parents.add(scopes[:split])
            if any(kind == "loop" for kind, _ in scopes[split:]):
                self.error(
                    "MLC113",
                    f"{consumer.what} merges {option.task}.{option.output} from inside a for_each block",
                    consumer.location,
                    "collect() the loop first, or merge outside the loop",
                    consumer.step,
                )
                return None
        condition_ids = {ident for _, ident in branches}
        if len(condition_ids) != 1 or len(branches) != len(value.options) or len(parents) != 1:
            self.error(
                "MLC113",
                f"{consumer.what} merges outputs that are not from different branches of one when/otherwise",
                consumer.location,
                "give merge() one output from each branch of the same condition",
                consumer.step,
            )
            return None
        if not self.in_scope(parents.pop(), consumer.scopes):
            self.error(
                "MLC105",
                f"{consumer.what} merges branches of a condition that does not enclose it",
                consumer.location,
                "merge after the when/otherwise block, in the same block",
                consumer.step,
            )
            return None
        if len(set(types)) != 1:
            self.error(
                "MLC113",
                f"{consumer.what} merges branch outputs of different types ({', '.join(types)})",
                consumer.location,
                "make every branch produce the same type",
                consumer.step,
            )
            return None
        return types[0]

    # ----- tasks, blocks, outputs ----------------------------------------------------------

    def check_task(self, scoped: ScopedTask) -> None:
        task = scoped.task
        component = self.p.components.get(task.component)
        consumer = _Consumer(f"step {task.name!r}", scoped.scopes, task.location, task.name)
        if component is None:
            self.error(
                "MLC101",
                f"step {task.name!r} calls unknown component {task.component!r}",
                task.location,
                "register the component in the pipeline",
                task.name,
            )
            return
        for name, value in task.inputs.items():
            port = component.input(name)
            if port is None:
                self.error(
                    "MLC101",
                    f"step {task.name!r} has no input {name!r}",
                    task.location,
                    f"its inputs are: {', '.join(p.name for p in component.inputs) or 'none'}",
                    task.name,
                )
                continue
            source_type = self.value_type(value, consumer)
            if source_type is None:
                continue
            if (
                isinstance(value, ir.Literal)
                and value.value is None
                and not ir.is_artifact_type(port.type)
            ):
                continue
            if isinstance(value, ir.Literal) and ir.is_artifact_type(port.type):
                self.error(
                    "MLC103",
                    f"step {task.name!r}: artifact input {name!r} ({port.type}) is given a literal",
                    task.location,
                    "pass an artifact output of another step",
                    task.name,
                )
            elif not assignable(source_type, port.type):
                self.error(
                    "MLC103",
                    f"step {task.name!r}: input {name!r} expects {port.type} but is given {source_type}",
                    task.location,
                    f"pass a {port.type} value, or change the input's annotation",
                    task.name,
                )
        # A call that already has a binding problem (an unknown name, a bad value) is not also
        # told that an input is missing: the fix is the same edit of the same line.
        already = any(
            d.step == task.name and d.location == task.location.source()
            for d in self.sink.diagnostics
        )
        for port in component.inputs:
            if port.type == ir.RUN_STATUS and port.name not in task.inputs:
                self.error(
                    "MLC114",
                    f"step {task.name!r} takes the run's status ({port.name}: RunStatus), which"
                    " only the final step receives",
                    task.location,
                    f"call it as final({component.name}(...)), or drop the {port.name} parameter",
                    task.name,
                )
            elif port.name not in task.inputs and not port.has_default and not already:
                self.error(
                    "MLC102",
                    f"step {task.name!r}: required input {port.name!r} ({port.type}) is not given",
                    task.location,
                    f"pass {port.name}=...",
                    task.name,
                )
        for key, env_value in task.options.env.items():
            if isinstance(env_value, ir.ParamRef):
                kind = self.value_type(env_value, consumer)
                if kind in ("list", "dict"):
                    self.error(
                        "MLC207",
                        f"step {task.name!r}: env[{key!r}] is {kind} parameter {env_value.name!r};"
                        " an environment variable holds one text value",
                        task.location,
                        "give a str, int, float or bool parameter",
                        task.name,
                    )
        image = task.options.image
        if isinstance(image, ir.ParamRef):
            kind = self.value_type(image, consumer)
            if component.kind != "container":
                self.error(
                    "MLC208",
                    f"step {task.name!r}: image is pipeline parameter {image.name!r}; a Python"
                    " step runs in the image built for its packages (`mlcompile images`),"
                    " pinned when the pipeline is compiled",
                    task.location,
                    "give a literal image, or make the step a @container_step",
                    task.name,
                )
            elif kind not in (None, "str"):
                self.error(
                    "MLC208",
                    f"step {task.name!r}: image is {kind} parameter {image.name!r}; an image"
                    " is a str",
                    task.location,
                    "declare the parameter as str",
                    task.name,
                )
        if task.options.content_types:
            from mlcompile.dsl.training import check_content_type_inputs

            check_content_type_inputs(
                component, task.options, self.sink, task.location.source(), task.name
            )
        for secret in task.options.secrets:
            if isinstance(secret.name, ir.ParamRef):
                kind = self.value_type(secret.name, consumer)
                if kind not in (None, "str"):
                    self.error(
                        "MLC207",
                        f"step {task.name!r}: the secret name parameter {secret.name.name!r} is {kind}, not str",
                        task.location,
                        "declare the parameter that names a secret as str",
                        task.name,
                    )
        for other in task.after:
            if other not in self.tasks:
                self.error(
                    "MLC109",
                    f"step {task.name!r} runs after unknown step {other!r}",
                    task.location,
                    "pass tasks of this pipeline to .after()",
                    task.name,
                )
            elif not self.in_scope(self.tasks[other].scopes, scoped.scopes):
                self.error(
                    "MLC105",
                    f"step {task.name!r} runs after {other!r}, which is inside a block that does not enclose it",
                    task.location,
                    "depend on the block's collect() or merge() result instead",
                    task.name,
                )

    def check_blocks(self, body: tuple[ir.BodyNode, ...], scopes: tuple[Scope, ...]) -> None:
        for node in body:
            if isinstance(node, ir.Condition):
                self.check_condition(
                    node.condition, _Consumer(f"condition {node.id}", scopes, node.location)
                )
                self.check_blocks(node.then, (*scopes, ("then", node.id)))
                if node.otherwise is not None:
                    self.check_blocks(node.otherwise, (*scopes, ("otherwise", node.id)))
            elif isinstance(node, ir.Loop):
                consumer = _Consumer(f"for_each {node.id}", scopes, node.location)
                items_type = self.value_type(node.items, consumer)
                if items_type not in (None, "list", "any"):
                    self.error(
                        "MLC112",
                        f"for_each {node.id} fans out over {items_type}, not a list",
                        node.location,
                        "fan out over a list",
                        None,
                    )
                if node.parallelism is not None and node.parallelism < 1:
                    self.error(
                        "MLC112",
                        f"for_each {node.id} parallelism {node.parallelism} is below 1",
                        node.location,
                        "give a positive parallelism or none",
                        None,
                    )
                self.check_blocks(node.body, (*scopes, ("loop", node.id)))

    def check_condition(self, expr: ir.ConditionExpr, consumer: _Consumer) -> None:
        if isinstance(expr, ir.AllOf | ir.AnyOf):
            for operand in expr.operands:
                self.check_condition(operand, consumer)
            return
        if isinstance(expr, ir.Not):
            self.check_condition(expr.operand, consumer)
            return
        left = self.value_type(expr.left, consumer)
        right = self.value_type(expr.right, consumer)
        if left is None or right is None:
            return
        ordered = expr.op in ("<", "<=", ">", ">=")
        comparable = (
            left in _NUMERIC and right in _NUMERIC
            if ordered
            else not any(ir.is_artifact_type(t) or t in ("list", "dict") for t in (left, right))
        )
        if not comparable:
            self.error(
                "MLC106",
                f"{consumer.what} compares {left} {expr.op} {right}, which cannot be compared",
                consumer.location,
                "compare numbers with <, <=, >, >= and scalars with == or !=; read a number out "
                "of a Metrics artifact with task.metrics['auc']",
            )

    def check_outputs(self) -> None:
        names: set[str] = set()
        for output in self.p.outputs:
            consumer = _Consumer(f"pipeline output {output.name!r}", (), self.p.location)
            if output.name in names:
                self.error(
                    "MLC115",
                    f"pipeline output {output.name!r} is declared twice",
                    self.p.location,
                    "give each output a distinct name",
                )
            names.add(output.name)
            self.value_type(output.source, consumer)

    def check_final(self) -> None:
        final = self.p.final
        if final is None:
            return
        for value in final.inputs.values():
            if any(True for _ in task_refs(value)):
                self.error(
                    "MLC114",
                    f"final step {final.name!r} reads an output of another step, which may have failed",
                    final.location,
                    "give the final step only pipeline parameters and literals",
                    final.name,
                )
                return

    def check_cycles(self) -> None:
        graph = {name: upstream_tasks(st.task) & set(self.tasks) for name, st in self.tasks.items()}
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> bool:
            state[name] = 1
            for dep in sorted(graph[name]):
                if state.get(dep) == 1:
                    task = self.tasks[name].task
                    self.error(
                        "MLC118",
                        f"steps depend on each other in a cycle: {' -> '.join([*path, name, dep])}",
                        task.location,
                        "remove one of the dependencies",
                        name,
                    )
                    return True
                if dep not in state and visit(dep, [*path, name]):
                    return True
            state[name] = 2
            return False

        for name in graph:
            if name not in state and visit(name, []):
                return


def validate(pipeline: ir.Pipeline, sink: DiagnosticSink) -> None:
    """Add every platform-independent problem of ``pipeline`` to ``sink``."""
    _Validator(pipeline, sink).run()
    from mlcompile.monitor.declaration import check_monitors

    check_monitors(pipeline, sink)
