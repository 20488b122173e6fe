"""A compiled spec, read back into what a reviewer compares: its steps (image, command,
resources, retries, caching, the conditions it runs under, and everything else) and its
parameters. One reader per spec format; the comparison in :mod:`mlcompile.ci.diff` is shared.

The build's own IR hash is masked before reading: it labels every step, so it would make each
one look changed. The manifest's IR hash is compared once, per build.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlcompile.platforms.kfp_spec.lower import CODE_URI_PARAMETER

#: The aspects of a step a reviewer asks about, in the order they are shown.
ASPECTS = ("image", "command", "resources", "retries", "caching", "conditions", "other")
IR_HASH = "<ir-hash>"


@dataclass
class Spec:
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)


def read_spec(build: Path, manifest: dict[str, Any]) -> Spec | None:
    """The steps and parameters of the build's main spec, or None for a format we cannot read
    (a third-party platform: its files are still compared by hash)."""
    path = build / str(manifest.get("spec", ""))
    if not path.is_file():
        return None
    text = _mask(path.read_text(encoding="utf-8"), str(manifest.get("ir_hash", "")))
    platform = manifest.get("platform")
    if platform == "sagemaker":
        return _sagemaker(json.loads(text))
    if path.suffix == ".json":
        data = json.loads(text)
        if "pipelineSpec" in data:  # a Vertex PipelineJob request
            spec = _kfp(data["pipelineSpec"], {})
            values = data.get("runtimeConfig", {}).get("parameterValues", {})
            for name, value in values.items():
                spec.parameters.setdefault(name, {})["value"] = value
            return spec
        return None
    if path.suffix in (".yaml", ".yml"):
        documents = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
        if documents and "root" in documents[0]:
            platforms: dict[str, Any] = next(
                (d["platforms"] for d in documents[1:] if "platforms" in d), {}
            )
            return _kfp(documents[0], platforms)
    return None


def _mask(text: str, ir_hash: str) -> str:
    if len(ir_hash) < 16:
        return text
    return text.replace(ir_hash, IR_HASH).replace(ir_hash[:16], IR_HASH)


# Kubeflow Pipelines IR (and Vertex, which runs the same IR): tasks live in DAGs; a task whose
# component is itself a DAG is a condition branch or a loop, and its tasks run under it.


def _kfp(spec: dict[str, Any], platforms: dict[str, Any]) -> Spec:
    out = Spec()
    root = spec.get("root", {})
    for name, definition in root.get("inputDefinitions", {}).get("parameters", {}).items():
        if name == CODE_URI_PARAMETER:
            continue  # the code bundle's address: a code change, reported as the bundle's file
        out.parameters[name] = dict(definition)
    components = spec.get("components", {})
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    kubernetes = platforms.get("kubernetes", {}).get("deploymentSpec", {}).get("executors", {})
    _kfp_dag(root.get("dag", {}), "", [], components, executors, kubernetes, out)
    return out


def _kfp_dag(
    dag: dict[str, Any],
    prefix: str,
    conditions: list[Any],
    components: dict[str, Any],
    executors: dict[str, Any],
    kubernetes: dict[str, Any],
    out: Spec,
) -> None:
    for key, task in sorted(dag.get("tasks", {}).items()):
        component = components.get(task.get("componentRef", {}).get("name", ""), {})
        here = [*conditions]
        if "triggerPolicy" in task:
            here.append(task["triggerPolicy"])
        if "parameterIterator" in task or "artifactIterator" in task:
            here.append({"for_each": task.get("parameterIterator") or task.get("artifactIterator")})
        if "dag" in component:
            # Branches are containers, not steps: their tasks are named by the step names.
            _kfp_dag(component["dag"], prefix, here, components, executors, kubernetes, out)
            continue
        label = component.get("executorLabel", "")
        executor = dict(executors.get(label, {}))
        container = dict(executor.pop("container", {}))
        rest = {
            k: v
            for k, v in task.items()
            if k not in ("retryPolicy", "cachingOptions", "triggerPolicy", "componentRef")
        }
        interface = json.loads(
            json.dumps({k: v for k, v in component.items() if k != "executorLabel"})
        )
        image = container.pop("image", None)
        command = [*container.pop("command", []), *container.pop("args", [])]
        resources = container.pop("resources", None)
        pools = _worker_pools(interface)
        if pools:
            # A Vertex custom job (google-cloud-pipeline-components): the step's own container
            # and machine are the job's worker pools, not the launcher's.
            image = [p.get("container_spec", {}).pop("image_uri", None) for p in pools]
            command = [
                [
                    *p.get("container_spec", {}).pop("command", []),
                    *p.get("container_spec", {}).pop("args", []),
                ]
                for p in pools
            ]
            resources = [
                {k: p.pop(k) for k in ("machine_spec", "replica_count", "disk_spec") if k in p}
                for p in pools
            ]
        out.steps[prefix + key] = {
            "image": image,
            "command": command,
            "resources": resources,
            "retries": task.get("retryPolicy"),
            "caching": task.get("cachingOptions"),
            "conditions": here,
            "other": {
                "task": rest,
                "container": container,
                "executor": executor,
                "interface": interface,
                "kubernetes": kubernetes.get(label),
            },
        }


def _worker_pools(interface: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = interface.get("inputDefinitions", {}).get("parameters", {})
    pools = parameters.get("worker_pool_specs", {}).get("defaultValue")
    return [p for p in pools if isinstance(p, dict)] if isinstance(pools, list) else []


# SageMaker pipeline definition: a list of steps; a Condition step holds the steps of its
# branches, which run under its conditions.

_SM_IMAGE = (
    ("AppSpecification", "ImageUri"),
    ("AlgorithmSpecification", "TrainingImage"),
    ("PrimaryContainer", "Image"),
)
_SM_COMMAND = (
    ("AppSpecification", "ContainerEntrypoint"),
    ("AppSpecification", "ContainerArguments"),
    ("AlgorithmSpecification", "ContainerEntrypoint"),
    ("AlgorithmSpecification", "ContainerArguments"),
)
_SM_RESOURCES = ("ProcessingResources", "ResourceConfig", "TransformResources", "StoppingCondition")


def _sagemaker(definition: dict[str, Any]) -> Spec:
    out = Spec()
    for parameter in definition.get("Parameters", []):
        out.parameters[parameter["Name"]] = {k: v for k, v in parameter.items() if k != "Name"}
    _sm_steps(definition.get("Steps", []), [], out)
    return out


def _sm_steps(steps: list[dict[str, Any]], conditions: list[Any], out: Spec) -> None:
    for step in steps:
        arguments = step.get("Arguments", {})
        if step.get("Type") == "Condition" and isinstance(arguments, dict):
            for branch, value in (("IfSteps", True), ("ElseSteps", False)):
                under = [
                    *conditions,
                    {"step": step["Name"], "when": value, "if": arguments.get("Conditions")},
                ]
                _sm_steps(arguments.get(branch, []), under, out)
            continue
        args = json.loads(json.dumps(arguments)) if isinstance(arguments, dict) else {}
        image = [_pop(args, path) for path in _SM_IMAGE]
        containers = args.get("InferenceSpecification", {}).get("Containers", [])
        image += [c.get("Image") for c in containers]
        command = {"/".join(path): _pop(args, path) for path in _SM_COMMAND}
        hyper = args.pop("HyperParameters", None)
        if hyper:
            command["HyperParameters"] = hyper
        out.steps[step["Name"]] = {
            "image": [i for i in image if i is not None] or None,
            "command": {k: v for k, v in command.items() if v is not None},
            "resources": {k: args.pop(k) for k in _SM_RESOURCES if k in args} or None,
            "retries": step.get("RetryPolicies"),
            "caching": step.get("CacheConfig"),
            "conditions": conditions,
            "other": {
                "type": step.get("Type"),
                "depends_on": step.get("DependsOn"),
                "arguments": args,
                "property_files": step.get("PropertyFiles"),
            },
        }


def _pop(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    return node.pop(path[-1], None) if isinstance(node, dict) else None
