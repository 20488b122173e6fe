"""Kubeflow executors: how each step's container runs, and its Kubernetes settings.

Python steps and builtin operations run mlcompile's runtime from the pipeline's code bundle (an
input artifact the launcher downloads; see :mod:`mlcompile.platforms.kfp_spec.command`) in the
step image, which needs only Python; container steps run their own command with KFP placeholders.
Resources are written as requests and limits, the limit equal to the request unless the step
raised it (``cpu_limit``, ``memory_limit``), in both the string fields current backends read and
the numeric fields older ones read.
"""

from __future__ import annotations

from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import tasks_by_name
from mlcompile.monitor.declaration import monitored_endpoints
from mlcompile.monitor.stack import baseline_target, sink_url
from mlcompile.naming import resource_name
from mlcompile.platforms.kfp_spec import Step, fixed_env, runtime_command
from mlcompile.platforms.kfp_spec.container import container_command, quantities
from mlcompile.platforms.kfp_spec.hooks import Executor, Leaf
from mlcompile.platforms.kfp_spec.importer import importer_executor
from mlcompile.platforms.kubeflow.kubernetes import executor_config, in_cluster_secrets
from mlcompile.profiles import Profile

_OPS_MODULE = {
    "read_metric": "mlcompile.runtime.ops.shared",
    "fail": "mlcompile.runtime.ops.shared",
    "register_model": "mlcompile.runtime.ops.shared",
    "deploy_model": "mlcompile.runtime.ops.kubeflow",
    "batch_predict": "mlcompile.runtime.ops.kubeflow",
    "publish_baseline": "mlcompile.runtime.ops.shared",
}

#: Replaced by the launcher with the run's artifact root (where versioned models go).
PIPELINE_ROOT_PLACEHOLDER = "{{$.pipeline_root}}"

#: Steps without an image run in a slim Python; the step side ships with the step's code.
SLIM_PYTHON = "python:3.11-slim"


class KubeflowHooks:
    """The Kubeflow side of the shared KFP lowering."""

    def __init__(
        self, pipeline: ir.Pipeline, profile: Profile, name: str, ir_hash: str, bundle_sha256: str
    ) -> None:
        self.pipeline = pipeline
        self.profile = profile
        self.name = name
        self.ir_hash = ir_hash
        self.bundle_sha256 = bundle_sha256
        self._tasks = tasks_by_name(pipeline)
        self._monitored = {m.endpoint for m in monitored_endpoints(pipeline)}

    def executor(self, step: Step) -> Executor:
        if step.op == "import_artifact":
            return importer_executor(step)
        runtime = step.component.kind != "container"
        container = self._runtime_step(step) if runtime else container_command(step)
        resources = _resources(step.task.options.resources)
        if resources:
            container["resources"] = resources
        if fixed_env(step.task.options.env):
            container["env"] = fixed_env(step.task.options.env)
        if not runtime:
            return {"container": container}
        return Leaf(step.component.name, dict(step.interface), {"container": container}, code=True)

    def platform_config(self, step: Step) -> dict[str, Any] | None:
        if step.op == "import_artifact":
            return None  # an importer runs no pod
        return executor_config(step, self.profile, self.name, self.ir_hash)

    def _runtime_step(self, step: Step) -> dict[str, Any]:
        image, packages = self._environment(step)
        options: dict[str, Any] = {}
        if step.templates:
            options["templates"] = dict(step.templates)
        secrets = step.task.options.secrets
        if secrets and not in_cluster_secrets(self.profile):
            options["secrets"] = [
                {"name": s.name.value, "env": s.env, "key": s.key}
                for s in secrets
                if isinstance(s.name, ir.Literal)
            ]
            options["secrets-backend"] = self.profile.effective_secrets_backend
        if step.env_inputs:
            options["env-inputs"] = dict(step.env_inputs)
        if step.op is not None:
            function = f"module:{_OPS_MODULE[step.op]}:{step.op}"
            options["config"] = self._op_config(step)
        else:
            code = step.component.function
            assert code is not None
            function = f"{code.file}:{code.function}"
        command, args = runtime_command(
            function=function,
            bundle_sha256=self.bundle_sha256,
            install=packages,
            options=options,
        )
        return {"image": image, "command": command, "args": args}

    def _environment(self, step: Step) -> tuple[str, tuple[str, ...]]:
        """The image and packages; batch_predict takes its model producer's, to load the model."""
        options = step.task.options
        if step.op == "batch_predict":
            model = step.task.inputs.get("model")
            producer = self._tasks.get(model.task) if isinstance(model, ir.OutputRef) else None
            if producer is not None:
                options = producer.task.options
        image = options.image if isinstance(options.image, str) else None  # a Python step's
        return image or self.profile.default_image or SLIM_PYTHON, options.packages

    def _op_config(self, step: Step) -> dict[str, Any]:
        if step.op == "publish_baseline":
            return {"target": baseline_target(self.profile, _endpoint(step))}
        if step.component.builtin is None:
            return {}
        config = {k: v for k, v in step.component.builtin.config.items() if v is not None}
        if step.op == "register_model":
            config["pipeline_root"] = PIPELINE_ROOT_PLACEHOLDER
        if step.op == "deploy_model":
            endpoint = config.pop("endpoint")
            config["endpoint_name"] = resource_name(self.profile, "endpoint", endpoint)
            config["namespace"] = resource_name(self.profile, "namespace")
            r = step.task.options.resources
            config["serving_resources"] = quantities(r)
            if r.cpu_limit or r.memory_limit_bytes:
                config["serving_limits"] = quantities(
                    ir.Resources(
                        cpu=r.cpu_limit or r.cpu,
                        memory_bytes=r.memory_limit_bytes or r.memory_bytes,
                    )
                )
            if endpoint in self._monitored:
                # KServe's logger posts each request to the stack's sink for the monitor.
                config["logger_url"] = sink_url(self.profile, config["endpoint_name"])
        return config


def _endpoint(step: Step) -> str:
    value = step.task.inputs["endpoint"]
    assert isinstance(value, ir.Literal)
    return str(value.value)


def _resources(r: ir.Resources) -> dict[str, Any]:
    """Requests and limits: the limit is the request unless the step raised it (cpu_limit,
    memory_limit), in the string fields and the numeric fields kfp's compiler writes."""
    out: dict[str, Any] = {}
    sizes = quantities(r)
    limits = quantities(
        ir.Resources(cpu=r.cpu_limit or r.cpu, memory_bytes=r.memory_limit_bytes or r.memory_bytes)
    )
    if r.cpu:
        out["cpuRequest"] = float(r.cpu)
        out["cpuLimit"] = float(r.cpu_limit or r.cpu)
        out["resourceCpuRequest"] = sizes["cpu"]
        out["resourceCpuLimit"] = limits["cpu"]
    if r.memory_bytes:
        out["memoryRequest"] = r.memory_bytes / 1e9
        out["memoryLimit"] = (r.memory_limit_bytes or r.memory_bytes) / 1e9
        out["resourceMemoryRequest"] = sizes["memory"]
        out["resourceMemoryLimit"] = limits["memory"]
    if r.gpu:
        kind = "amd.com/gpu" if (r.gpu_type or "").startswith("amd") else "nvidia.com/gpu"
        out["accelerator"] = {
            "count": str(r.gpu),
            "resourceCount": str(r.gpu),
            "type": kind,
            "resourceType": kind,
        }
    return out
