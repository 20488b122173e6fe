"""The IR features a pipeline uses, and where: the rows of the portability table.

Every platform states, for each feature here, whether it maps it, lowers it into something it
has, or refuses it; a feature missing from a platform's table counts as refused, so adding a
feature to the IR can never be dropped silently by a platform that does not know it yet.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import condition_values, iter_nodes, scoped_tasks

FEATURES: dict[str, str] = {
    "function-step": "Python function step",
    "container-step": "container step with its own command",
    "container-outputs": "container step output values (Output[int]) written to files",
    "training-step": "step marked kind='training'",
    "hyperparameters": "a training step's input values as its hyperparameters",
    "input-content-type": "an input's content type (content_types=, import_artifact(content_type=))",
    "image-entrypoint": "a training container step that keeps its image's entrypoint",
    "nested-pipeline": "pipeline used as a step",
    "pipeline-outputs": "pipeline outputs",
    "artifacts": "artifacts passed between steps",
    "import-artifact": "import_artifact() of data or a model at a URI",
    "condition": "when() branch",
    "else-branch": "otherwise() branch",
    "compound-condition": "condition combined with &, | or ~",
    "metric-condition": "condition on a number read from a Metrics artifact",
    "fan-out-literal": "for_each over a literal list",
    "fan-out-parameter": "for_each over a list pipeline parameter",
    "fan-out-runtime": "for_each over a list a step returns",
    "parallelism-limit": "for_each parallelism limit",
    "fan-in": "collect() of a loop's outputs",
    "merge": "merge() of branch outputs",
    "final-step": "final() step that always runs",
    "final-status": "final() step reading the run's status (RunStatus)",
    "fail": "fail() with a message",
    "register-model": "register_model()",
    "model-approval-parameter": "register_model approval from a parameter",
    "serving-image-parameter": "register_model serving image from a parameter",
    "model-instance-lists": "register_model inference and transform instance types",
    "deploy-model": "deploy_model()",
    "batch-predict": "batch_predict()",
    "model-xgboost": "an XGBoost model (framework='xgboost')",
    "model-lightgbm": "a LightGBM model (framework='lightgbm')",
    "model-pytorch": "a PyTorch TorchScript model (framework='pytorch')",
    "deploy-pytorch": "deploy_model() of a PyTorch model",
    "monitoring": "deploy_model(monitor=...) drift monitoring of the endpoint",
    "drift-retrain": "Retrain() when the endpoint drifts",
    "drift-alert": "Alert() when the endpoint drifts",
    "retries": "retries",
    "retry-backoff": "retry backoff and factor",
    "cache-disabled": "cache=False",
    "timeout": "step timeout",
    "resources": "cpu, memory and disk requests",
    "gpu": "GPU requests",
    "env": "environment variables",
    "env-parameter": "environment variable from a pipeline parameter",
    "container-env-parameter": "container step environment variable from a pipeline parameter",
    "secrets": "secrets by reference",
    "container-secrets": "secrets given to a container step",
    "secret-name-parameter": "secret named by a pipeline parameter",
    "secret-name-output": "secret named by an earlier step's output",
    "packages": "pip packages per step",
    "schedule": "cron schedule",
    "after": "explicit ordering with .after()",
    "platform-options": "platform_options escape hatch",
    "platform-option-parameter": "a platform option given by a pipeline parameter",
    "image-parameter": "a container step's image given by a pipeline parameter",
}

Status = Literal["mapped", "lowered", "refused"]


@dataclass(frozen=True)
class Support:
    status: Status
    note: str = ""


@dataclass(frozen=True)
class FeatureUse:
    feature: str
    where: str
    location: ir.Location


def features_used(pipeline: ir.Pipeline) -> list[FeatureUse]:
    """Each use of each feature, in source order, deduplicated."""
    uses = list(dict.fromkeys(_uses(pipeline)))
    return sorted(uses, key=lambda u: (u.location.file, u.location.line, u.feature, u.where))


def _uses(p: ir.Pipeline) -> Iterator[FeatureUse]:
    if p.schedule is not None:
        yield FeatureUse("schedule", "pipeline", p.location)
    if p.outputs:
        yield FeatureUse("pipeline-outputs", "pipeline", p.location)
    for node in iter_nodes(p.body):
        if isinstance(node, ir.Condition):
            yield FeatureUse("condition", node.id, node.location)
            if node.otherwise is not None:
                yield FeatureUse("else-branch", node.id, node.location)
            if not isinstance(node.condition, ir.Compare):
                yield FeatureUse("compound-condition", node.id, node.location)
            if any(isinstance(v, ir.MetricRef) for v in condition_values(node.condition)):
                yield FeatureUse("metric-condition", node.id, node.location)
        elif isinstance(node, ir.Loop):
            kind = {
                "literal": "fan-out-literal",
                "param": "fan-out-parameter",
                "output": "fan-out-runtime",
            }[node.items.kind]
            yield FeatureUse(kind, node.id, node.location)
            if node.parallelism is not None:
                yield FeatureUse("parallelism-limit", node.id, node.location)
    for scoped in scoped_tasks(p):
        yield from _task_uses(p, scoped.task)
    if p.final is not None:
        yield FeatureUse("final-step", p.final.name, p.final.location)
        if any(isinstance(v, ir.RunStatusRef) for v in p.final.inputs.values()):
            yield FeatureUse("final-status", p.final.name, p.final.location)


def _task_uses(p: ir.Pipeline, task: ir.Task) -> Iterator[FeatureUse]:
    where, loc = task.name, task.location
    component = p.components[task.component]
    if component.kind == "function":
        yield FeatureUse("function-step", where, loc)
    elif component.kind == "container":
        yield FeatureUse("container-step", where, loc)
        if any(not ir.is_artifact_type(port.type) for port in component.outputs):
            yield FeatureUse("container-outputs", where, loc)
    elif component.kind == "pipeline":
        yield FeatureUse("nested-pipeline", where, loc)
        if component.pipeline is not None:
            yield from _uses(component.pipeline)
    elif component.builtin is not None:
        op = component.builtin.op
        yield FeatureUse(
            {
                "import_artifact": "import-artifact",
                "register_model": "register-model",
                "deploy_model": "deploy-model",
                "batch_predict": "batch-predict",
                "fail": "fail",
            }[op],
            where,
            loc,
        )
        if op == "register_model" and isinstance(task.inputs.get("approval"), ir.ParamRef):
            yield FeatureUse("model-approval-parameter", where, loc)
        if op == "register_model" and "serving_image" in task.inputs:
            yield FeatureUse("serving-image-parameter", where, loc)
        yield from _framework_uses(p, task, component.builtin)
        monitor = component.builtin.monitor
        if monitor is not None:
            yield FeatureUse("monitoring", where, monitor.location)
            action = "drift-retrain" if monitor.on_drift.action == "retrain" else "drift-alert"
            yield FeatureUse(action, where, monitor.location)
    if component.builtin is not None:
        yield from _builtin_training_uses(component.builtin, task)
    if task.options.content_types:
        yield FeatureUse("input-content-type", where, loc)
    if any(ir.is_artifact_type(port.type) for port in (*component.inputs, *component.outputs)):
        yield FeatureUse("artifacts", where, loc)
    for value in task.inputs.values():
        if isinstance(value, ir.CollectedRef):
            yield FeatureUse("fan-in", where, loc)
        if isinstance(value, ir.OneOfRef):
            yield FeatureUse("merge", where, loc)
    o = task.options
    if o.role == "training":
        yield FeatureUse("training-step", where, loc)
        yield from _training_uses(component, task)
    if o.retry.count:
        yield FeatureUse("retries", where, loc)
        if o.retry.backoff_seconds or o.retry.backoff_factor or o.retry.max_backoff_seconds:
            yield FeatureUse("retry-backoff", where, loc)
    if not o.cache:
        yield FeatureUse("cache-disabled", where, loc)
    if o.timeout_seconds:
        yield FeatureUse("timeout", where, loc)
    r = o.resources
    if r.cpu or r.memory_bytes or r.disk_bytes:
        yield FeatureUse("resources", where, loc)
    if r.gpu:
        yield FeatureUse("gpu", where, loc)
    if o.env:
        yield FeatureUse("env", where, loc)
    if any(isinstance(v, ir.ParamRef) for v in o.env.values()):
        container = p.components[task.component].kind == "container"
        yield FeatureUse("container-env-parameter" if container else "env-parameter", where, loc)
    if o.secrets:
        yield FeatureUse("secrets", where, loc)
        if p.components[task.component].kind == "container":
            yield FeatureUse("container-secrets", where, loc)
        if any(isinstance(s.name, ir.ParamRef) for s in o.secrets):
            yield FeatureUse("secret-name-parameter", where, loc)
        if any(isinstance(s.name, ir.OutputRef) for s in o.secrets):
            yield FeatureUse("secret-name-output", where, loc)
    if o.packages:
        yield FeatureUse("packages", where, loc)
    if task.after:
        yield FeatureUse("after", where, loc)
    if o.platform_options:
        yield FeatureUse("platform-options", where, loc)
    if isinstance(o.image, ir.ParamRef):
        yield FeatureUse("image-parameter", where, loc)
    given = [v for options in o.platform_options.values() for v in options.values()]
    if any(ir.option_parameter(v) is not None for v in given):
        yield FeatureUse("platform-option-parameter", where, loc)


def _training_uses(component: ir.Component, task: ir.Task) -> Iterator[FeatureUse]:
    """A training step's input values are its hyperparameters; a container with no command
    keeps its image's entrypoint."""
    where, loc = task.name, task.location
    if any(
        not ir.is_artifact_type(port.type) and port.name in task.inputs for port in component.inputs
    ):
        yield FeatureUse("hyperparameters", where, loc)
    if component.container is not None and not component.container.command:
        yield FeatureUse("image-entrypoint", where, loc)


def _builtin_training_uses(builtin: ir.Builtin, task: ir.Task) -> Iterator[FeatureUse]:
    if builtin.op == "import_artifact" and builtin.config.get("content_type"):
        yield FeatureUse("input-content-type", task.name, task.location)
    if builtin.op == "register_model" and (
        builtin.config.get("inference_instances") or builtin.config.get("transform_instances")
    ):
        yield FeatureUse("model-instance-lists", task.name, task.location)


def serves_own_image(config: Mapping[str, Any], inputs: Mapping[str, object]) -> bool:
    """Whether a register_model or batch_predict names a serving image of the user's own: a
    literal in its config, or a pipeline parameter reaching it as the ``serving_image`` input."""
    return bool(config.get("serving_image")) or "serving_image" in inputs


#: Frameworks with a row of their own (scikit-learn is what register_model means by default).
_FRAMEWORK_ROWS = ("xgboost", "lightgbm", "pytorch")


def _framework_uses(p: ir.Pipeline, task: ir.Task, builtin: ir.Builtin) -> Iterator[FeatureUse]:
    """A model of a framework a platform may not serve: registered or scored with that
    framework's image (a serving_image of the user's own serves anything), or deployed after
    such a registration."""
    config = builtin.config
    if builtin.op in ("register_model", "batch_predict"):
        framework = config.get("framework")
        if framework in _FRAMEWORK_ROWS and not serves_own_image(config, task.inputs):
            yield FeatureUse(f"model-{framework}", task.name, task.location)
    elif builtin.op == "deploy_model":
        source = task.inputs.get("model")
        if not isinstance(source, ir.OutputRef):
            return
        for scoped in scoped_tasks(p):
            registration = p.components[scoped.task.component].builtin
            if scoped.task.name == source.task and registration is not None:
                registered = registration.config
                if registered.get("framework") == "pytorch" and not serves_own_image(
                    registered, scoped.task.inputs
                ):
                    yield FeatureUse("deploy-pytorch", task.name, task.location)
