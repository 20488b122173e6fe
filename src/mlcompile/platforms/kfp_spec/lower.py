"""Lowering the IR graph into a KFP PipelineSpec: DAGs, groups, channels, exports and executors.

Every IR construct has a KFP shape: a condition is a DAG component run by a task with a
``triggerPolicy`` (an if/else wraps both branches in one more DAG so ``valueFromOneof`` can merge
them), a loop is a DAG component run with a ``parameterIterator``, the final step runs after an
exit-handler DAG with ``ALL_UPSTREAM_TASKS_COMPLETED``, and a nested pipeline is a DAG component.

A value used inside a group is threaded down through each group's inputs as a
``pipelinechannel--`` input, and a value produced inside a group is exported up through each
group's DAG outputs (a loop turns it into a list); this is the shape kfp's own compiler writes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlcompile.errors import InternalError
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import canonical_json
from mlcompile.ir.walk import scoped_tasks
from mlcompile.monitor.declaration import monitored_endpoints
from mlcompile.platforms.kfp_spec.command import CODE_INPUT
from mlcompile.platforms.kfp_spec.hooks import (
    ENV_SLOT,
    IMAGE_SLOT,
    Composite,
    Hooks,
    Leaf,
    Step,
    TemplateParts,
)
from mlcompile.platforms.kfp_spec.types import (
    PARAMETER_TYPES,
    SCHEMA_TITLES,
    as_list_type,
    is_artifact_spec,
    kebab,
    output_key,
    pb_value,
    port_spec,
    type_spec,
)

#: The schema and kfp release whose IR this writer reproduces; backends key behaviour on them.
SCHEMA_VERSION = "2.1.0"
SDK_VERSION = "kfp-2.17.3"

#: The root input holding the code bundle's URI. Its default is where ``deploy`` uploads the
#: bundle (the pipeline root's ``code/`` folder); a run may point it at another copy, whose
#: sha256 every step still checks.
CODE_URI_PARAMETER = "mlcompile_code_uri"
_CODE_TYPE = {"artifactType": {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}}

_READ_METRIC = ir.Component(
    name="read_metric",
    kind="builtin",
    description="Read one number from a Metrics artifact so a condition can compare it",
    inputs=(ir.Port(name="metrics", type="Metrics"), ir.Port(name="key", type="str")),
    outputs=(ir.Port(name="output", type="float"),),
    location=ir.Location(file="<mlcompile>", line=0),
)
#: After the deploy step of a monitored endpoint: its baseline data set, copied to where the
#: stack's monitoring job reads it (each platform's hooks say where).
_PUBLISH_BASELINE = ir.Component(
    name="publish_baseline",
    kind="builtin",
    description="Publish the baseline data set of a monitored endpoint for its monitoring job",
    inputs=(ir.Port(name="data", type="Dataset"), ir.Port(name="endpoint", type="str")),
    location=ir.Location(file="<mlcompile>", line=0),
)


@dataclass(frozen=True)
class LoweredSpec:
    """The PipelineSpec document, and each executor's platform config by executor label."""

    pipeline_spec: dict[str, Any]
    platform_executors: dict[str, dict[str, Any]]


def lower(
    pipeline: ir.Pipeline,
    hooks: Hooks,
    *,
    name: str,
    description: str | None = None,
    pipeline_root: str | None = None,
    schema_titles: Mapping[str, str] = SCHEMA_TITLES,
    code_uri: str | None = None,
) -> LoweredSpec:
    """The PipelineSpec for ``pipeline``; ``hooks`` writes each leaf step's executor and
    ``schema_titles`` names each IR artifact type in the platform's vocabulary. Steps that run
    mlcompile's runtime read the code bundle at ``code_uri`` through one importer task."""
    registry = _Registry(hooks, pipeline.sources, schema_titles, code_uri)
    root = _Graph(pipeline, registry).component()
    spec: dict[str, Any] = {
        "components": registry.components,
        "deploymentSpec": {"executors": registry.executors},
        "pipelineInfo": {"name": name},
        "root": root,
        "schemaVersion": SCHEMA_VERSION,
        "sdkVersion": SDK_VERSION,
    }
    text = pipeline.description if description is None else description
    if text:
        spec["pipelineInfo"]["description"] = text
    if pipeline_root:
        spec["defaultPipelineRoot"] = pipeline_root
    return LoweredSpec(spec, registry.platform_executors)


class _Registry:
    """Component and executor names across the whole spec; identical leaves share one."""

    def __init__(
        self,
        hooks: Hooks,
        sources: Mapping[str, ir.SourceFile],
        titles: Mapping[str, str],
        code_uri: str | None = None,
    ) -> None:
        self.hooks = hooks
        self.code_uri = code_uri
        self.sources = sources
        self.titles = titles
        self.components: dict[str, dict[str, Any]] = {}
        self.executors: dict[str, dict[str, Any]] = {}
        self.platform_executors: dict[str, dict[str, Any]] = {}
        self._by_content: dict[str, str] = {}

    def reserve(self, base: str) -> str:
        name, n = f"comp-{base}", 1
        while name in self.components:
            n += 1
            name = f"comp-{base}-{n}"
        self.components[name] = {}
        return name

    def leaf(
        self,
        base: str,
        interface: dict[str, Any],
        executor: dict[str, Any],
        platform: dict[str, Any] | None,
    ) -> str:
        content = canonical_json([interface, executor, platform])
        if content in self._by_content:
            return self._by_content[content]
        name = self.reserve(base)
        label = "exec-" + name.removeprefix("comp-")
        self.components[name] = {"executorLabel": label, **interface}
        self.executors[label] = executor
        if platform:
            self.platform_executors[label] = platform
        self._by_content[content] = name
        return name

    def composite(self, base: str, composite: Composite) -> str:
        """A DAG component running the composite's tasks; identical composites share one."""
        names = {
            leaf.name: self.leaf(kebab(leaf.name), leaf.interface, leaf.executor, None)
            for leaf in composite.leaves
        }
        tasks = {
            key: {**task, "componentRef": {"name": names[task["componentRef"]["name"]]}}
            for key, task in composite.tasks.items()
        }
        outputs: dict[str, dict[str, Any]] = {}
        for key, (producer, produced) in sorted(composite.outputs.items()):
            if key in composite.interface.get("outputDefinitions", {}).get("artifacts", {}):
                outputs.setdefault("artifacts", {})[key] = {
                    "artifactSelectors": [
                        {"producerSubtask": producer, "outputArtifactKey": produced}
                    ]
                }
            else:
                outputs.setdefault("parameters", {})[key] = {
                    "valueFromParameter": {
                        "producerSubtask": producer,
                        "outputParameterKey": produced,
                    }
                }
        dag: dict[str, Any] = {"tasks": tasks}
        if outputs:
            dag["outputs"] = outputs
        spec = {"dag": dag, **composite.interface}
        content = canonical_json(spec)
        if content in self._by_content:
            return self._by_content[content]
        name = self.reserve(base)
        self.components[name] = spec
        self._by_content[content] = name
        return name


@dataclass(eq=False)
class _Group:
    """One DAG: the root of a graph, or a condition, if/else, loop or exit-handler group."""

    key: str
    kind: str
    parent: _Group | None
    component: str = ""
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    dag_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    depends: dict[str, set[str]] = field(default_factory=dict)
    oneofs: int = 0

    def path(self) -> list[_Group]:
        chain: list[_Group] = []
        group: _Group | None = self
        while group is not None:
            chain.append(group)
            group = group.parent
        return chain[::-1]

    def depend(self, task: str, on: str) -> None:
        if task != on:
            self.depends.setdefault(task, set()).add(on)

    def spec(self) -> dict[str, Any]:
        tasks = {}
        for key, task in self.tasks.items():
            if key in self.depends:
                task = {**task, "dependentTasks": sorted(self.depends[key])}
            tasks[key] = task
        dag: dict[str, Any] = {"tasks": tasks}
        out_params = {k: v for k, v in self.dag_outputs.items() if not _is_artifact_out(v)}
        out_artifacts = {k: v for k, v in self.dag_outputs.items() if _is_artifact_out(v)}
        if out_params or out_artifacts:
            dag["outputs"] = _split("parameters", out_params, "artifacts", out_artifacts)
        spec: dict[str, Any] = {"dag": dag}
        if self.inputs:
            spec["inputDefinitions"] = _definitions(self.inputs)
        if self.outputs:
            spec["outputDefinitions"] = _definitions(self.outputs)
        return spec


@dataclass(frozen=True)
class _Source:
    """A value available in ``group``: a task's output (``producer``) or one of its inputs."""

    group: _Group
    producer: str | None
    key: str
    channel: str
    type: dict[str, Any]

    def expr(self) -> dict[str, Any]:
        if is_artifact_spec(self.type):
            if self.producer is None:
                return {"componentInputArtifact": self.key}
            return {
                "taskOutputArtifact": {"producerTask": self.producer, "outputArtifactKey": self.key}
            }
        if self.producer is None:
            return {"componentInputParameter": self.key}
        return {
            "taskOutputParameter": {"producerTask": self.producer, "outputParameterKey": self.key}
        }


class _Graph:
    """Lowers one IR pipeline (the root, or one used as a step) into a DAG component."""

    def __init__(self, pipeline: ir.Pipeline, registry: _Registry, nested: bool = False) -> None:
        self.pipeline = pipeline
        self.registry = registry
        self.nested = nested
        #: The code bundle artifact in this graph's root, once a step needs it.
        self.code: _Source | None = None
        self.root = _Group("root", "graph", None)
        self.placed: dict[str, tuple[_Group, str]] = {}
        self.loops: dict[str, _Group] = {}
        self.keys: set[str] = set()
        self.oneofs: dict[str, _Source] = {}
        self.metrics: dict[tuple[int, str, str, str], _Source] = {}
        #: The key of the exit-handler DAG whose status a final step may read.
        self.exit_handler = ""
        self._all: list[_Group] = []
        self._by_key: dict[str, _Group] = {}
        self._tasks = {st.task.name: st.task for st in scoped_tasks(pipeline)}
        #: Deploy steps of monitored endpoints whose baseline is a step of this graph.
        self.monitored = {
            m.task.name: m
            for m in monitored_endpoints(pipeline)
            if m.baseline is not None and m.baseline.task in self._tasks
        }
        #: Tasks already lowered, with the keys their leaf gives outputs it renamed.
        self.output_keys: dict[str, Mapping[str, str]] = {}

    # ----- structure ---------------------------------------------------------------------

    def component(self) -> dict[str, Any]:
        p = self.pipeline
        self.root.inputs = {port.name: port_spec(port) for port in p.parameters}
        body_group = self.root
        if p.final is not None:
            body_group = self._group(self.root, "exit-handler", "exit", "exit-handler")
            self.exit_handler = body_group.key
            self.placed[p.final.name] = (self.root, self._key(p.final.name))
        self._place(p.body, body_group)
        self._lower(p.body, body_group)
        if p.final is not None:
            _, key = self.placed[p.final.name]
            self._leaf(self.root, key, p.final)
            self.root.tasks[key]["triggerPolicy"] = {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
            self.root.depend(key, body_group.key)
        for out in p.outputs:
            self._graph_output(out)
        return self._emit(self.root)

    def _key(self, name: str) -> str:
        base = key = kebab(name)
        n = 1
        while key in self.keys:
            n += 1
            key = f"{base}-{n}"
        self.keys.add(key)
        return key

    def _group(self, parent: _Group, name: str, kind: str, display: str) -> _Group:
        key = self._key(name)
        group = _Group(key, kind, parent, component=self.registry.reserve(key))
        parent.tasks[key] = {
            "componentRef": {"name": group.component},
            "taskInfo": {"name": display},
        }
        self._all.append(group)
        self._by_key[key] = group
        return group

    def _place(self, body: tuple[ir.BodyNode, ...], group: _Group) -> None:
        for node in body:
            if isinstance(node, ir.Task):
                key = self._key(node.name)
                self.placed[node.name] = (group, key)
                group.tasks[key] = {}
            elif isinstance(node, ir.Condition):
                ident = kebab(node.id)
                if node.otherwise is None:
                    self._place(node.then, self._group(group, ident, "condition", ident))
                else:
                    branches = self._group(group, f"{ident}-branches", "branches", ident)
                    self._place(
                        node.then, self._group(branches, f"{ident}-then", "condition", "then")
                    )
                    self._place(
                        node.otherwise, self._group(branches, f"{ident}-else", "condition", "else")
                    )
            else:
                loop = self._group(group, f"for-{kebab(node.id)}", "loop", kebab(node.id))
                self.loops[node.id] = loop
                self._place(node.body, loop)

    def _lower(self, body: tuple[ir.BodyNode, ...], group: _Group) -> None:
        for node in body:
            if isinstance(node, ir.Task):
                _, key = self.placed[node.name]
                self._leaf(group, key, node)
                if node.name in self.monitored:
                    self._publish_baseline(group, node)
            elif isinstance(node, ir.Condition):
                ident = kebab(node.id)
                if node.otherwise is None:
                    then = self._by_key[ident]
                    self._trigger(then, self._cel(node.condition, then))
                    self._lower(node.then, then)
                else:
                    then = self._by_key[f"{ident}-then"]
                    other = self._by_key[f"{ident}-else"]
                    self._trigger(then, self._cel(node.condition, then))
                    self._trigger(other, f"!({self._cel(node.condition, other)})")
                    self._lower(node.then, then)
                    self._lower(node.otherwise or (), other)
            else:
                loop = self.loops[node.id]
                self._loop(node, loop)
                self._lower(node.body, loop)

    def _publish_baseline(self, group: _Group, deploy: ir.Task) -> None:
        """The ``publish_baseline`` step after a monitored endpoint's deploy step."""
        found = self.monitored[deploy.name]
        assert found.baseline is not None  # check_monitors reported a missing one
        task = ir.Task(
            name=f"{deploy.name}_baseline",
            component=_PUBLISH_BASELINE.name,
            inputs={"data": found.baseline, "endpoint": ir.Literal(value=found.endpoint)},
            after=(deploy.name,),
            options=ir.StepOptions(cache=deploy.options.cache),
            location=deploy.location,
        )
        key = self._key(task.name)
        group.tasks[key] = {}
        self.placed[task.name] = (group, key)
        self._leaf(group, key, task, _PUBLISH_BASELINE, "publish_baseline")

    def _trigger(self, group: _Group, condition: str) -> None:
        assert group.parent is not None
        group.parent.tasks[group.key]["triggerPolicy"] = {"condition": condition}

    # ----- values ------------------------------------------------------------------------

    def _source(self, value: ir.Value) -> _Source:
        if isinstance(value, ir.ParamRef):
            port = self.pipeline.parameter(value.name)
            if port is None:
                raise InternalError(f"unknown pipeline parameter {value.name!r}")
            spec = type_spec(port.type, self.registry.titles)
            return _Source(self.root, None, value.name, f"pipelinechannel--{value.name}", spec)
        if isinstance(value, ir.OutputRef | ir.CollectedRef):
            group, key = self.placed[value.task]
            task = self._task(value.task)
            port = self.pipeline.components[task.component].output(value.output)
            if port is None:
                raise InternalError(f"step {value.task!r} has no output {value.output!r}")
            spec = type_spec(port.type, self.registry.titles)
            if value.task not in self.output_keys:
                raise InternalError(f"step {value.task!r} is read before it is lowered")
            out = output_key(value.output)
            out = self.output_keys[value.task].get(out, out)
            return _Source(group, key, out, f"pipelinechannel--{key}-{out}", spec)
        if isinstance(value, ir.LoopItemRef):
            loop = self.loops[value.loop]
            channel = _item_channel(loop)
            return _Source(loop, None, channel, channel, loop.inputs[channel])
        if isinstance(value, ir.OneOfRef):
            return self._one_of(value)
        raise InternalError(f"no KFP source for a {value.kind} value")

    def _task(self, name: str) -> ir.Task:
        return self._tasks[name]

    def _export(self, src: _Source) -> _Source:
        """The same value one level up: an output of the group that holds it."""
        group = src.group
        if group.parent is None or src.producer is None:
            raise InternalError(f"{src.channel} cannot leave its scope")
        spec = as_list_type(src.type) if group.kind == "loop" else src.type
        if is_artifact_spec(spec):
            group.dag_outputs[src.channel] = {
                "artifactSelectors": [
                    {"producerSubtask": src.producer, "outputArtifactKey": src.key}
                ]
            }
        else:
            group.dag_outputs[src.channel] = {
                "valueFromParameter": {
                    "producerSubtask": src.producer,
                    "outputParameterKey": src.key,
                }
            }
        group.outputs[src.channel] = spec
        return _Source(group.parent, group.key, src.channel, src.channel, spec)

    def _bring(self, src: _Source, target: _Group) -> _Source:
        """The value available inside ``target``: exported up to the common scope, then
        threaded down through each group's inputs."""
        target_path = target.path()
        source_path = src.group.path()
        common = 0
        while (
            common < min(len(target_path), len(source_path))
            and target_path[common] is source_path[common]
        ):
            common += 1
        while len(src.group.path()) > common:
            src = self._export(src)
        for group in target_path[common:]:
            assert group.parent is not None
            group.inputs[src.channel] = src.type
            section = "artifacts" if is_artifact_spec(src.type) else "parameters"
            inputs = group.parent.tasks[group.key].setdefault("inputs", {})
            inputs.setdefault(section, {})[src.channel] = src.expr()
            if src.producer is not None:
                group.parent.depend(group.key, src.producer)
            src = _Source(group, None, src.channel, src.channel, src.type)
        return src

    def _input(
        self, group: _Group, consumer: str, value: ir.Value
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The task input spec reading ``value`` in ``group``, and the value's type."""
        if isinstance(value, ir.Literal):
            return {"runtimeValue": {"constant": pb_value(value.value)}}, _literal_type(value.value)
        if isinstance(value, ir.RunStatusRef):
            # The exit handler's status: the final task depends on it already.
            status = {"taskFinalStatus": {"producerTask": self.exit_handler}}
            return status, {"parameterType": "TASK_FINAL_STATUS"}
        src = self._metric(group, value) if isinstance(value, ir.MetricRef) else self._source(value)
        src = self._bring(src, group)
        if src.producer is not None:
            group.depend(consumer, src.producer)
        spec = src.expr()
        if isinstance(value, ir.LoopItemRef) and value.key is not None:
            spec["parameterExpressionSelector"] = (
                f"parseJson(string_value)[{json.dumps(value.key)}]"
            )
            return spec, {"parameterType": "STRING"}
        return spec, src.type

    def _one_of(self, ref: ir.OneOfRef) -> _Source:
        cache = canonical_json(ref)
        if cache in self.oneofs:
            return self.oneofs[cache]
        sources = [self._source(option) for option in ref.options]
        paths = [s.group.path() for s in sources]
        common = 0
        while all(len(p) > common and p[common] is paths[0][common] for p in paths):
            common += 1
        branches = paths[0][common - 1]
        if branches.kind != "branches" or branches.parent is None:
            raise InternalError("merge() options are not the branches of one when()/otherwise()")
        exported = []
        for src in sources:
            while src.group is not branches:
                src = self._export(src)
            exported.append(src)
        branches.oneofs += 1
        channel = f"pipelinechannel--{branches.key}-oneof-{branches.oneofs}"
        spec = exported[0].type
        if is_artifact_spec(spec):
            branches.dag_outputs[channel] = {
                "artifactSelectors": [
                    {"producerSubtask": s.producer, "outputArtifactKey": s.key} for s in exported
                ]
            }
        else:
            branches.dag_outputs[channel] = {
                "valueFromOneof": {
                    "parameterSelectors": [
                        {"producerSubtask": s.producer, "outputParameterKey": s.key}
                        for s in exported
                    ]
                }
            }
        branches.outputs[channel] = spec
        result = _Source(branches.parent, branches.key, channel, channel, spec)
        self.oneofs[cache] = result
        return result

    def _metric(self, group: _Group, ref: ir.MetricRef) -> _Source:
        """A read_metric step in ``group`` that turns the metric into a float output."""
        cache = (id(group), ref.task, ref.output, ref.key)
        if cache not in self.metrics:
            producer = self._task(ref.task)
            task = ir.Task(
                name=f"{ref.task}_{ref.key}_metric",
                component=_READ_METRIC.name,
                inputs={
                    "metrics": ir.OutputRef(task=ref.task, output=ref.output),
                    "key": ir.Literal(value=ref.key),
                },
                location=producer.location,
            )
            key = self._key(task.name)
            group.tasks[key] = {}
            self._leaf(group, key, task, _READ_METRIC, "read_metric")
            channel = f"pipelinechannel--{key}-Output"
            self.metrics[cache] = _Source(group, key, "Output", channel, type_spec("float"))
        return self.metrics[cache]

    def _cel(self, expr: ir.ConditionExpr, group: _Group) -> str:
        """The condition as CEL over ``group``'s inputs."""
        if isinstance(expr, ir.AllOf):
            return " && ".join(f"({self._cel(op, group)})" for op in expr.operands)
        if isinstance(expr, ir.AnyOf):
            return " || ".join(f"({self._cel(op, group)})" for op in expr.operands)
        if isinstance(expr, ir.Not):
            return f"!({self._cel(expr.operand, group)})"
        return f"{self._operand(expr.left, group)} {expr.op} {self._operand(expr.right, group)}"

    def _operand(self, value: ir.Value, group: _Group) -> str:
        if isinstance(value, ir.Literal):
            return _cel_literal(value.value)
        assert group.parent is not None
        src = (
            self._metric(group.parent, value)
            if isinstance(value, ir.MetricRef)
            else self._source(value)
        )
        src = self._bring(src, group)
        text = f"inputs.parameter_values['{src.key}']"
        if isinstance(value, ir.LoopItemRef) and value.key is not None:
            text += f"[{json.dumps(value.key)}]"
        return text

    def _loop(self, node: ir.Loop, loop: _Group) -> None:
        channel = _item_channel(loop)
        item = node.item_type
        loop.inputs[channel] = type_spec(item if item in PARAMETER_TYPES else "any")
        assert loop.parent is not None
        task = loop.parent.tasks[loop.key]
        if isinstance(node.items, ir.Literal):
            items: dict[str, Any] = {"raw": json.dumps(node.items.value, sort_keys=True)}
        else:
            src = self._bring(self._source(node.items), loop)
            items = {"inputParameter": src.key}
        task["parameterIterator"] = {"itemInput": channel, "items": items}
        if node.parallelism:
            task["iteratorPolicy"] = {"parallelismLimit": node.parallelism}

    # ----- the code bundle ---------------------------------------------------------------

    def _code(self, group: _Group, consumer: str) -> dict[str, Any]:
        """The task input reading the code bundle in ``group``: the output of the one importer
        at the top level, threaded down like any value (a nested pipeline takes it as an
        input)."""
        if self.code is None:
            if self.nested:
                self.root.inputs[CODE_INPUT] = dict(_CODE_TYPE)
                self.code = _Source(self.root, None, CODE_INPUT, CODE_INPUT, _CODE_TYPE)
            else:
                self.code = self._code_importer()
        src = self._bring(self.code, group)
        if src.producer is not None:
            group.depend(consumer, src.producer)
        return src.expr()

    def _code_importer(self) -> _Source:
        uri = self.registry.code_uri
        if uri is None:
            raise InternalError("a step runs mlcompile's runtime, but no code bundle was given")
        key = self._key("import-code")
        name = self.registry.leaf(
            "import-code",
            {
                "inputDefinitions": {"parameters": {"uri": {"parameterType": "STRING"}}},
                "outputDefinitions": {"artifacts": {"artifact": _CODE_TYPE}},
            },
            {
                "importer": {
                    "artifactUri": {"runtimeParameter": "uri"},
                    "typeSchema": _CODE_TYPE["artifactType"],
                }
            },
            None,
        )
        self.root.tasks[key] = {
            "cachingOptions": {"enableCache": True},
            "componentRef": {"name": name},
            "inputs": {"parameters": {"uri": {"componentInputParameter": CODE_URI_PARAMETER}}},
            "taskInfo": {"name": key},
        }
        self.root.inputs[CODE_URI_PARAMETER] = {
            "defaultValue": uri,
            "isOptional": True,
            "parameterType": "STRING",
        }
        return _Source(self.root, key, "artifact", f"pipelinechannel--{key}-artifact", _CODE_TYPE)

    # ----- leaves ------------------------------------------------------------------------

    def _leaf(
        self,
        group: _Group,
        key: str,
        task: ir.Task,
        component: ir.Component | None = None,
        synthetic: str | None = None,
    ) -> None:
        component = component or self.pipeline.components[task.component]
        titles = self.registry.titles
        inputs: dict[str, dict[str, Any]] = {p.name: port_spec(p, titles) for p in component.inputs}
        params: dict[str, Any] = {}
        artifacts: dict[str, Any] = {}
        templates: dict[str, TemplateParts] = {}
        for name, value in sorted(task.inputs.items()):
            if isinstance(value, ir.TemplateRef):
                parts: TemplateParts = []
                del inputs[name]
                for i, part in enumerate(value.parts):
                    if isinstance(part, str):
                        parts.append(part)
                        continue
                    slot = f"{name}__{i}"
                    params[slot], inputs[slot] = self._input(group, key, part)
                    parts.append({"input": slot})
                templates[name] = parts
                continue
            read, _ = self._input(group, key, value)
            (artifacts if _section(inputs[name]) == "artifacts" else params)[name] = read
        env_inputs: dict[str, str] = {}
        for variable, env_value in sorted(task.options.env.items()):
            if isinstance(env_value, ir.ParamRef) and component.kind != "container":
                # KFP's container env is fixed: the value arrives as an input, and the
                # runtime sets the variable from it before the step's code runs.
                slot = ENV_SLOT.format(variable)
                params[slot], inputs[slot] = self._input(group, key, env_value)
                env_inputs[variable] = slot
        if isinstance(task.options.image, ir.ParamRef):
            params[IMAGE_SLOT], inputs[IMAGE_SLOT] = self._input(group, key, task.options.image)
        for after in task.after:
            self._after(group, key, after)
        spec: dict[str, Any] = {
            "componentRef": {},
            "taskInfo": {"name": task.options.display_name or key},
        }
        if params or artifacts:
            spec["inputs"] = _split("parameters", params, "artifacts", artifacts)
        code_input = False
        if component.kind == "pipeline":
            assert component.pipeline is not None
            name, code_input = self._graph_component(component)
        else:
            interface: dict[str, Any] = {}
            if inputs:
                interface["inputDefinitions"] = _definitions(inputs)
            if component.outputs:
                interface["outputDefinitions"] = _definitions(
                    {output_key(p.name): type_spec(p.type, titles) for p in component.outputs}
                )
            op = synthetic or (component.builtin.op if component.builtin else None)
            step = Step(
                key=key,
                task=task,
                component=component,
                op=op,
                templates=templates,
                env_inputs=env_inputs,
                sources=self.registry.sources,
                resolve=lambda value: self._input(group, key, value)[0],
                interface=interface,
            )
            executor = self.registry.hooks.executor(step)
            platform = self.registry.hooks.platform_config(step)
            base = kebab(component.name)
            if isinstance(executor, Composite):
                if any(leaf.code for leaf in executor.leaves):
                    executor, code_input = _composite_with_code(executor), True
                name = self.registry.composite(base, executor)
            elif isinstance(executor, Leaf):
                leaf_interface = executor.interface
                if executor.code:
                    leaf_interface, code_input = _with_code_input(leaf_interface), True
                name = self.registry.leaf(
                    kebab(executor.name), leaf_interface, executor.executor, platform
                )
                for section in spec.get("inputs", {}).values():
                    for old, new in executor.input_keys.items():
                        if old in section:
                            section[new] = section.pop(old)
                self.output_keys[task.name] = dict(executor.output_keys)
            else:
                name = self.registry.leaf(base, interface, executor, platform)
            if not isinstance(executor, dict) and executor.task_inputs:
                inputs_spec = spec.setdefault("inputs", {})
                inputs_spec.setdefault("parameters", {}).update(executor.task_inputs)
        self.output_keys.setdefault(task.name, {})
        if code_input:
            artifacts_in = spec.setdefault("inputs", {}).setdefault("artifacts", {})
            artifacts_in[CODE_INPUT] = self._code(group, key)
        spec["componentRef"]["name"] = name
        spec["cachingOptions"] = {"enableCache": True} if task.options.cache else {}
        retry = task.options.retry
        if retry.count:
            spec["retryPolicy"] = {
                "maxRetryCount": retry.count,
                "backoffDuration": f"{retry.backoff_seconds or 0}s",
                "backoffFactor": float(retry.backoff_factor or 2.0),
                "backoffMaxDuration": f"{retry.max_backoff_seconds or 3600}s",
            }
        group.tasks[key] = spec

    def _after(self, group: _Group, consumer: str, producer_name: str) -> None:
        """``.after()``: the consumer (or its enclosing group) waits for the producer's side."""
        producer_group, producer_key = self.placed[producer_name]
        here: list[_Group | None] = [*group.path(), None]
        there: list[_Group | None] = [*producer_group.path(), None]
        common = 0
        while here[common] is not None and here[common] is there[common]:
            common += 1
        scope, mine, theirs = here[common - 1], here[common], there[common]
        assert scope is not None
        waiting = mine.key if mine is not None else consumer
        awaited = theirs.key if theirs is not None else producer_key
        scope.depend(waiting, awaited)

    def _graph_component(self, component: ir.Component) -> tuple[str, bool]:
        """The DAG component of a nested pipeline, and whether it takes the code bundle."""
        assert component.pipeline is not None
        graph = _Graph(component.pipeline, self.registry, nested=True)
        spec = graph.component()
        uses_code = graph.code is not None
        content = canonical_json(spec)
        for name, existing in self.registry.components.items():
            if canonical_json(existing) == content:
                return name, uses_code
        name = self.registry.reserve(kebab(component.name))
        self.registry.components[name] = spec
        return name, uses_code

    def _graph_output(self, out: ir.PipelineOutput) -> None:
        src = self._source(out.source)
        while src.group is not self.root:
            src = self._export(src)
        if src.producer is None:
            raise InternalError(f"pipeline output {out.name!r} must come from a step")
        spec = type_spec(out.type, self.registry.titles)
        if is_artifact_spec(spec):
            self.root.dag_outputs[out.name] = {
                "artifactSelectors": [
                    {"producerSubtask": src.producer, "outputArtifactKey": src.key}
                ]
            }
        else:
            self.root.dag_outputs[out.name] = {
                "valueFromParameter": {
                    "producerSubtask": src.producer,
                    "outputParameterKey": src.key,
                }
            }
        self.root.outputs[out.name] = spec

    def _emit(self, group: _Group) -> dict[str, Any]:
        for child in self._all:
            self.registry.components[child.component] = child.spec()
        return group.spec()


def uses_code_bundle(spec: Mapping[str, Any]) -> bool:
    """Whether a lowered PipelineSpec reads the code bundle (some step runs the runtime)."""
    root = spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    return CODE_URI_PARAMETER in root


def _with_code_input(interface: dict[str, Any]) -> dict[str, Any]:
    """``interface`` with the code bundle among its input artifacts."""
    inputs = dict(interface.get("inputDefinitions", {}))
    inputs["artifacts"] = {**inputs.get("artifacts", {}), CODE_INPUT: dict(_CODE_TYPE)}
    return {**interface, "inputDefinitions": inputs}


def _composite_with_code(composite: Composite) -> Composite:
    """The composite taking the code bundle, passing it on to its leaves that run the runtime."""
    coded = {leaf.name for leaf in composite.leaves if leaf.code}
    leaves = tuple(
        dataclasses.replace(leaf, interface=_with_code_input(leaf.interface), code=False)
        if leaf.code
        else leaf
        for leaf in composite.leaves
    )
    tasks = {}
    for key, task in composite.tasks.items():
        if task["componentRef"]["name"] in coded:
            inputs = dict(task.get("inputs", {}))
            inputs["artifacts"] = {
                **inputs.get("artifacts", {}),
                CODE_INPUT: {"componentInputArtifact": CODE_INPUT},
            }
            task = {**task, "inputs": inputs}
        tasks[key] = task
    return Composite(_with_code_input(composite.interface), tasks, leaves, dict(composite.outputs))


def _item_channel(loop: _Group) -> str:
    return f"pipelinechannel--{loop.key}-item"


def _literal_type(value: Any) -> dict[str, Any]:
    kinds = {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}
    return type_spec(kinds.get(type(value), "str"))


def _cel_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value))
    return json.dumps(value)


def _section(spec: dict[str, Any]) -> str:
    return "artifacts" if is_artifact_spec(spec) else "parameters"


def _is_artifact_out(spec: dict[str, Any]) -> bool:
    return "artifactSelectors" in spec


def _definitions(specs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    params = {k: v for k, v in specs.items() if not is_artifact_spec(v)}
    artifacts = {k: v for k, v in specs.items() if is_artifact_spec(v)}
    return _split("parameters", params, "artifacts", artifacts)


def _split(a: str, first: dict[str, Any], b: str, second: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if first:
        out[a] = first
    if second:
        out[b] = second
    return out
