"""Vertex executors: how each step runs, through Vertex's own services where they exist.

- A Python or container step is a container task (cpu/memory limits and an accelerator, which
  Vertex turns into a machine). A training step, or one with a timeout or disk request, runs as a
  Vertex custom job through GCPC's custom job launcher, the component
  ``create_custom_training_job_from_component`` builds: the step's interface plus the launcher's
  inputs, whose defaults carry the worker pool (machine, accelerator, boot disk, the step's
  container), ``scheduling.timeout``, the service account, network, labels and CMEK key. A step
  input or output named like one of the launcher's (``labels``, ``project``, ``location``...) is
  renamed in that interface, ``step_`` before its name (:data:`RENAMED_PREFIX`), and the runtime
  hands it to the function under its own name.
- ``register_model`` stages the model folder for the prebuilt serving image, then uploads it to
  the Vertex Model Registry (GCPC ModelUploadOp) with the approval status as a label.
- ``deploy_model`` deploys the registered model (GCPC ModelDeployOp) to the endpoint the
  generated stack creates, imported as a ``google.VertexEndpoint``.
- ``batch_predict`` writes the data set as JSON-lines instances and runs a Vertex batch
  prediction job (GCPC ModelBatchPredictOp) on the registered model, or on the staged model.

Secrets are read from Secret Manager by the step at run time: the spec holds only their names.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import graphs, scoped_tasks
from mlcompile.monitor.stack import baseline_target
from mlcompile.naming import resource_name, vertex_endpoint_id
from mlcompile.platforms.kfp_spec import Step, fixed_env, runtime_command
from mlcompile.platforms.kfp_spec.container import container_command, quantities
from mlcompile.platforms.kfp_spec.hooks import Composite, Executor, Leaf
from mlcompile.platforms.kfp_spec.importer import importer_executor
from mlcompile.platforms.kfp_spec.types import pb_value
from mlcompile.platforms.vertex.gcpc import COMPONENTS
from mlcompile.platforms.vertex.images import training_image
from mlcompile.platforms.vertex.job import Target
from mlcompile.platforms.vertex.machines import (
    GIB,
    MachineSpec,
    accelerator,
    machine_parameter,
    machine_spec,
)
from mlcompile.platforms.vertex.serving import serving_image
from mlcompile.profiles import Profile

_SHARED_OPS = "mlcompile.runtime.ops.shared"
_VERTEX_OPS = "mlcompile.runtime.ops.vertex"
#: Replaced by the launcher with the run's artifact root (where staged models go).
PIPELINE_ROOT_PLACEHOLDER = "{{$.pipeline_root}}"
EXECUTOR_INPUT = "{{$}}"
#: The executor input, JSON-escaped so it can sit inside the custom job's payload string.
ESCAPED_EXECUTOR_INPUT = "{{$.json_escape[1]}}"
#: The input a secret name given by a pipeline parameter reaches the step in; the runtime's
#: ``--secrets`` argument holds its placeholder, which the launcher substitutes.
SECRET_SLOT = "mlcompile_secret_{}"
#: The input a deployment's or batch job's machine type arrives in, when a parameter gives it.
MACHINE_SLOT = "mlcompile_machine_type"
#: GCPC's default boot disk for custom jobs; a larger disk request raises it.
BOOT_DISK_GB = 100
#: Put before a step's input or output name that GCPC's custom job launcher already uses, in
#: the custom job's interface (repeated until the name is free): ``labels`` is ``step_labels``.
RENAMED_PREFIX = "step_"

_UNMANAGED_MODEL = {
    "artifactType": {"schemaTitle": "google.UnmanagedContainerModel", "schemaVersion": "0.0.1"}
}
_VERTEX_MODEL = {"artifactType": {"schemaTitle": "google.VertexModel", "schemaVersion": "0.0.1"}}
_VERTEX_ENDPOINT = {
    "artifactType": {"schemaTitle": "google.VertexEndpoint", "schemaVersion": "0.0.1"}
}
#: Frameworks recognised from a training step's packages, for a model batch_predict stages.
_FRAMEWORK_PACKAGES = (("xgboost", "xgboost"), ("tensorflow", "tensorflow"), ("torch", "pytorch"))


def runs_as_custom_job(options: ir.StepOptions) -> bool:
    """Training steps, and steps needing what only a custom job has (a timeout, a disk, an
    image chosen by the run)."""
    return (
        options.role == "training"
        or bool(options.timeout_seconds)
        or bool(options.resources.disk_bytes)
        # A custom job's worker pool spec takes its image from a placeholder when it starts.
        or isinstance(options.image, ir.ParamRef)
    )


class VertexHooks:
    """The Vertex side of the shared KFP lowering."""

    def __init__(
        self, pipeline: ir.Pipeline, profile: Profile, where: Target, bundle_sha256: str
    ) -> None:
        self.profile = profile
        self.where = where
        self.bundle_sha256 = bundle_sha256
        self._producers: dict[str, tuple[ir.Task, ir.Component]] = {}
        for graph in graphs(pipeline):
            for scoped in scoped_tasks(graph):
                component = graph.components[scoped.task.component]
                self._producers.setdefault(scoped.task.name, (scoped.task, component))

    def executor(self, step: Step) -> Executor:
        if step.op == "import_artifact":
            return importer_executor(step)
        if step.op == "register_model":
            return self._register(step)
        if step.op == "deploy_model":
            return self._deploy(step)
        if step.op == "batch_predict":
            return self._batch_predict(step)
        runtime = step.component.kind != "container"
        options = step.task.options
        custom = runs_as_custom_job(options)
        inputs, outputs = launcher_renames(step.interface) if custom else ({}, {})
        if not runtime:
            container = container_command(step, inputs, outputs)
        elif step.op == "publish_baseline":
            endpoint = step.task.inputs["endpoint"]
            assert isinstance(endpoint, ir.Literal)
            target = baseline_target(self.profile, str(endpoint.value))
            container = self._runtime(
                step, f"module:{_SHARED_OPS}:{step.op}", {"target": target}, names=(inputs, outputs)
            )
        elif step.op is not None:
            builtin = step.component.builtin
            config = dict(builtin.config) if builtin is not None else {}
            function = f"module:{_SHARED_OPS}:{step.op}"
            container = self._runtime(step, function, config, names=(inputs, outputs))
        else:
            container = self._runtime(step, names=(inputs, outputs))
        if custom:
            leaf = self._custom_job(step, container, runtime, inputs, outputs)
            return _with_secret_slots(step, leaf)
        limits = _limits(options.resources)
        if limits:
            container["resources"] = limits
        if fixed_env(options.env):
            container["env"] = fixed_env(options.env)
        if not runtime and not _secret_slots(step):
            return {"container": container}
        leaf = Leaf(
            step.component.name,
            copy.deepcopy(dict(step.interface)),
            {"container": container},
            code=runtime,
        )
        return _with_secret_slots(step, leaf)

    def platform_config(self, step: Step) -> dict[str, Any] | None:
        return None

    # ----- containers ----------------------------------------------------------------------

    def _runtime(
        self,
        step: Step,
        function: str | None = None,
        config: dict[str, Any] | None = None,
        environment: ir.StepOptions | None = None,
        names: tuple[dict[str, str], dict[str, str]] = ({}, {}),
    ) -> dict[str, Any]:
        """The container running ``function`` (the step's own by default) through the runtime,
        in ``environment``'s image with its packages (the step's by default); ``names`` are the
        inputs and outputs renamed in the interface (old key -> new key)."""
        env = environment or step.task.options
        options: dict[str, Any] = {}
        for option, renamed in zip(("input-names", "output-names"), names, strict=True):
            if renamed:
                options[option] = {new: old for old, new in renamed.items()}
        if step.templates:
            options["templates"] = dict(step.templates)
        if step.env_inputs:
            options["env-inputs"] = dict(step.env_inputs)
        secrets = step.task.options.secrets
        if secrets:
            options["secrets"] = [
                {"name": self._secret_path(i, s), "env": s.env, "key": s.key}
                for i, s in enumerate(secrets)
            ]
            options["secrets-backend"] = "gcp-secret-manager"
        if function is None:
            code = step.component.function
            assert code is not None
            function = f"{code.file}:{code.function}"
        else:
            options["config"] = config or {}
        command, args = runtime_command(
            function=function,
            bundle_sha256=self.bundle_sha256,
            install=env.packages,
            options=options,
        )
        return {
            "image": env.image
            or self.profile.default_image
            or training_image(env.packages, self.profile.region, env.resources.gpu > 0),
            "command": command,
            "args": args,
        }

    def _secret_path(self, index: int, ref: ir.SecretRef) -> str:
        """The secret's full Secret Manager name, so the step needs no project setting; a name
        given by a pipeline parameter is a placeholder of an input the task receives it in."""
        if isinstance(ref.name, ir.Literal):
            name = str(ref.name.value)
        else:
            name = f"{{{{$.inputs.parameters['{SECRET_SLOT.format(index)}']}}}}"
        return f"projects/{self.where.project}/secrets/{name}/versions/latest"

    def _custom_job(
        self,
        step: Step,
        container: dict[str, Any],
        runtime: bool,
        renamed_inputs: dict[str, str],
        renamed_outputs: dict[str, str],
    ) -> Leaf:
        options = step.task.options
        machine = machine_spec(step.task.name, options, self.profile)
        chosen = machine_parameter(step.task.name, options, self.profile)
        # A run's machine type lands in the worker pool spec as its image does: a placeholder
        # of an input of the launcher, filled in when the job is created.
        spec: dict[str, Any] = {
            "machine_type": machine.machine_type
            if chosen is None
            else f"{{{{$.inputs.parameters['{MACHINE_SLOT}']}}}}"
        }
        if machine.accelerator_count:
            spec["accelerator_type"] = machine.accelerator_type
            spec["accelerator_count"] = machine.accelerator_count
        disk = options.resources.disk_bytes
        pool = {
            "container_spec": training_container(step, container, renamed_outputs),
            "machine_spec": spec,
            "disk_spec": {
                "boot_disk_type": "pd-ssd",
                "boot_disk_size_gb": max(BOOT_DISK_GB, math.ceil(disk / GIB))
                if disk
                else BOOT_DISK_GB,
            },
            "replica_count": 1,
        }
        defaults: dict[str, Any] = {
            "display_name": f"{self.where.name}-{step.key}",
            "worker_pool_specs": [pool],
            "service_account": self.where.service_account,
            "encryption_spec_key_name": self.where.kms_key,
            "labels": self.where.labels,
        }
        if options.timeout_seconds:
            defaults["timeout"] = f"{options.timeout_seconds}s"
        if self.where.network:
            defaults["network"] = self.where.network
        gcpc = copy.deepcopy(COMPONENTS["custom_job"])
        launcher = gcpc["interface"]["inputDefinitions"]["parameters"]
        for name, value in defaults.items():
            launcher[name] = {**launcher[name], "defaultValue": pb_value(value), "isOptional": True}
        interface = _renamed(step.interface, renamed_inputs, renamed_outputs)
        inputs = interface.setdefault("inputDefinitions", {})
        inputs["parameters"] = {**inputs.get("parameters", {}), **launcher}
        outputs = interface.setdefault("outputDefinitions", {})
        outputs["parameters"] = {
            **outputs.get("parameters", {}),
            **gcpc["interface"]["outputDefinitions"]["parameters"],
        }
        task_inputs: dict[str, dict[str, Any]] = {}
        if chosen is not None:
            inputs["parameters"][MACHINE_SLOT] = {"parameterType": "STRING"}
            task_inputs[MACHINE_SLOT] = step.resolve(ir.ParamRef(name=chosen))
        return Leaf(
            step.component.name,
            interface,
            gcpc["executor"],
            task_inputs=task_inputs,
            code=runtime,
            input_keys=renamed_inputs,
            output_keys=renamed_outputs,
        )

    # ----- builtin operations on Vertex's services --------------------------------------------

    def _register(self, step: Step) -> Composite:
        assert step.component.builtin is not None
        config = step.component.builtin.config
        model_name = str(config["model_name"])
        stage = self._stage_model(step, model_name, config, self.where.labels)
        upload = _gcpc_leaf("model_upload")
        display = resource_name(self.profile, "model-group", model_name)
        description = str(config.get("description") or f"{model_name}, from {self.where.name}")
        tasks = {
            "stage-model": _task(step, stage.name, _pass_through(step.interface)),
            "model-upload": _task(
                step,
                upload.name,
                {
                    "parameters": {
                        "display_name": _constant(display),
                        "description": _constant(description),
                        "labels": _output_parameter("stage-model", "Output"),
                        "encryption_spec_key_name": _constant(self.where.kms_key),
                        "project": _constant(self.where.project),
                        "location": _constant(self.where.region),
                    },
                    "artifacts": {
                        "unmanaged_container_model": _output_artifact(
                            "stage-model", "container_model"
                        )
                    },
                },
                after=["stage-model"],
            ),
        }
        return Composite(
            dict(step.interface),
            tasks,
            (stage, upload),
            {"registered_model": ("model-upload", "model")},
        )

    def _stage_model(
        self, step: Step, model_name: str, config: dict[str, Any], labels: dict[str, str]
    ) -> Leaf:
        """The step laying the model out for its serving image, as an UnmanagedContainerModel."""
        passed = ("model", "approval", "metrics", "serving_image")
        inputs = {
            section: {k: v for k, v in specs.items() if k in passed}
            for section, specs in step.interface.get("inputDefinitions", {}).items()
        }
        stage_config = {
            "model_name": model_name,
            "framework": config["framework"],
            "labels": labels,
            "description": str(config.get("description") or ""),
            "pipeline_root": PIPELINE_ROOT_PLACEHOLDER,
        }
        if "serving_image" not in inputs.get("parameters", {}):  # else a parameter gives it
            stage_config["serving_image"] = serving_image(config, self.where.region)
        interface = {
            "inputDefinitions": {k: v for k, v in inputs.items() if v},
            "outputDefinitions": {
                "artifacts": {"container_model": _UNMANAGED_MODEL},
                "parameters": {"Output": {"parameterType": "STRUCT"}},
            },
        }
        executor = self._runtime(step, f"module:{_VERTEX_OPS}:stage_model", stage_config)
        return Leaf("stage-model", interface, {"container": executor}, code=True)

    def _deploy(self, step: Step) -> Composite:
        assert step.component.builtin is not None
        config = step.component.builtin.config
        name = resource_name(self.profile, "endpoint", str(config["endpoint"]))
        where = self.where
        resource = f"projects/{where.project}/locations/{where.region}/endpoints/{vertex_endpoint_id(name)}"
        uri = f"https://{where.region}-aiplatform.googleapis.com/v1/{resource}"
        importer = Leaf(
            "import-endpoint",
            {
                "inputDefinitions": {"parameters": {"uri": {"parameterType": "STRING"}}},
                "outputDefinitions": {"artifacts": {"artifact": _VERTEX_ENDPOINT}},
            },
            {
                "importer": {
                    "artifactUri": {"constant": uri},
                    "metadata": {"resourceName": resource},
                    "typeSchema": _VERTEX_ENDPOINT["artifactType"],
                }
            },
        )
        machine = machine_spec(step.task.name, step.task.options, self.profile, serving=True)
        params: dict[str, Any] = {
            "dedicated_resources_machine_type": self._machine_type(step, machine),
            "dedicated_resources_min_replica_count": _constant(config["min_replicas"]),
            "dedicated_resources_max_replica_count": _constant(config["max_replicas"]),
            "traffic_split": _constant({"0": 100}),
        }
        if machine.accelerator_count:
            params["dedicated_resources_accelerator_type"] = _constant(machine.accelerator_type)
            params["dedicated_resources_accelerator_count"] = _constant(machine.accelerator_count)
        deploy = _gcpc_leaf("model_deploy")
        tasks = {
            "import-endpoint": _task(step, importer.name, {"parameters": {"uri": _constant(uri)}}),
            "model-deploy": _task(
                step,
                deploy.name,
                {
                    "parameters": params,
                    "artifacts": {
                        "model": {"componentInputArtifact": "model"},
                        "endpoint": _output_artifact("import-endpoint", "artifact"),
                    },
                },
                after=["import-endpoint"],
            ),
        }
        return self._with_machine_slot(
            step,
            Composite(
                dict(step.interface),
                tasks,
                (importer, deploy),
                {"endpoint": ("import-endpoint", "artifact")},
            ),
        )

    def _machine_type(self, step: Step, machine: MachineSpec) -> dict[str, Any]:  # GCPC ops
        """A GCPC job's machine type: the machine chosen now, or the run's parameter."""
        if machine_parameter(step.task.name, step.task.options, self.profile) is None:
            return _constant(machine.machine_type)
        return {"componentInputParameter": MACHINE_SLOT}

    def _with_machine_slot(self, step: Step, composite: Composite) -> Composite:
        """``composite`` with an input carrying the machine type a parameter gives, bound to it."""
        parameter = machine_parameter(step.task.name, step.task.options, self.profile)
        if parameter is None:
            return composite
        interface = copy.deepcopy(composite.interface)
        params = interface.setdefault("inputDefinitions", {}).setdefault("parameters", {})
        params[MACHINE_SLOT] = {"parameterType": "STRING"}
        bound = {MACHINE_SLOT: step.resolve(ir.ParamRef(name=parameter))}
        return dataclasses.replace(composite, interface=interface, task_inputs=bound)

    def _batch_predict(self, step: Step) -> Composite:
        assert step.component.builtin is not None
        config = step.component.builtin.config
        producer = self._model_producer(step)
        registered = producer is not None and _is_registered(producer, step)
        interface = copy.deepcopy(dict(step.interface))
        leaves: list[Leaf] = []
        tasks: dict[str, dict[str, Any]] = {}
        model_input: dict[str, Any]
        if registered:
            interface["inputDefinitions"]["artifacts"]["model"] = _VERTEX_MODEL
            model_input = {"model": {"componentInputArtifact": "model"}}
        else:
            # The framework batch_predict names, else the one the training step's packages use.
            framework = config.get("framework") or _framework(
                producer[0].options if producer else step.task.options
            )
            serving: dict[str, Any] = {
                k: config[k] for k in ("framework_version", "serving_image") if k in config
            }
            stage = self._stage_model(step, step.key, {"framework": framework, **serving}, {})
            leaves.append(stage)
            tasks["stage-model"] = _task(
                step, stage.name, {"artifacts": {"model": {"componentInputArtifact": "model"}}}
            )
            model_input = {
                "unmanaged_container_model": _output_artifact("stage-model", "container_model")
            }
        environment = producer[0].options if producer and not registered else None
        instances_inputs = {"data": {"componentInputArtifact": "data"}}
        stage_artifacts: dict[str, Any] = {
            "data": interface["inputDefinitions"]["artifacts"]["data"]
        }
        if not registered:
            instances_inputs["model"] = {"componentInputArtifact": "model"}
            stage_artifacts["model"] = interface["inputDefinitions"]["artifacts"]["model"]
        instances = Leaf(
            "stage-instances",
            {
                "inputDefinitions": {"artifacts": stage_artifacts},
                "outputDefinitions": {
                    "artifacts": {"instances": copy.deepcopy(stage_artifacts["data"])},
                    "parameters": {"Output": {"parameterType": "LIST"}},
                },
            },
            {
                "container": self._runtime(
                    step,
                    f"module:{_VERTEX_OPS}:stage_instances",
                    {"content_type": config["content_type"]},
                    environment,
                )
            },
            code=True,
        )
        leaves.append(instances)
        tasks["stage-instances"] = _task(step, instances.name, {"artifacts": instances_inputs})
        machine = machine_spec(step.task.name, step.task.options, self.profile, serving=True)
        params: dict[str, Any] = {
            "job_display_name": _constant(f"{self.where.name}-{step.key}"),
            "gcs_source_uris": _output_parameter("stage-instances", "Output"),
            "instances_format": _constant("jsonl"),
            "predictions_format": _constant("jsonl"),
            "gcs_destination_output_uri_prefix": _constant(
                f"{self.where.pipeline_root}/batch-predictions"
            ),
            "machine_type": self._machine_type(step, machine),
            "starting_replica_count": _constant(1),
            "max_replica_count": _constant(1),
            "labels": _constant(self.where.labels),
            "encryption_spec_key_name": _constant(self.where.kms_key),
            "service_account": _constant(self.where.service_account),
            "project": _constant(self.where.project),
            "location": _constant(self.where.region),
        }
        if machine.accelerator_count:
            params["accelerator_type"] = _constant(machine.accelerator_type)
            params["accelerator_count"] = _constant(machine.accelerator_count)
        batch = _gcpc_leaf("model_batch_predict")
        leaves.append(batch)
        tasks["batch-predict"] = _task(
            step,
            batch.name,
            {"parameters": params, "artifacts": model_input},
            after=sorted(tasks),
        )
        return self._with_machine_slot(
            step,
            Composite(
                interface,
                tasks,
                tuple(leaves),
                {"predictions": ("batch-predict", "gcs_output_directory")},
            ),
        )

    def _model_producer(self, step: Step) -> tuple[ir.Task, ir.Component] | None:
        value = step.task.inputs.get("model")
        refs = value.options if isinstance(value, ir.OneOfRef) else (value,)
        for ref in refs:
            if isinstance(ref, ir.OutputRef) and ref.task in self._producers:
                return self._producers[ref.task]
        return None


def training_container(
    step: Step, container: dict[str, Any], renamed_outputs: dict[str, str]
) -> dict[str, Any]:
    """A custom job's worker pool container. A container step with no command keeps its
    image's entrypoint (only ``image_uri``); a training step's model output is ``AIP_MODEL_DIR``,
    where Vertex tells training code to save the model
    (https://cloud.google.com/vertex-ai/docs/training/code-requirements#environment-variables)."""
    env: dict[str, str] = {e["name"]: e["value"] for e in fixed_env(step.task.options.env)}
    model = next((p.name for p in step.component.outputs if p.type == "Model"), None)
    if step.task.options.role == "training" and model is not None and "AIP_MODEL_DIR" not in env:
        key = renamed_outputs.get(model, model)
        env["AIP_MODEL_DIR"] = f"{{{{$.outputs.artifacts['{key}'].uri}}}}"
    spec: dict[str, Any] = {"image_uri": container["image"]}
    if container.get("command"):
        spec["command"] = container["command"]
    spec["args"] = [
        ESCAPED_EXECUTOR_INPUT if a == EXECUTOR_INPUT else a for a in container.get("args", [])
    ]
    spec["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    return spec


def launcher_renames(interface: Any) -> tuple[dict[str, str], dict[str, str]]:
    """(inputs, outputs) of the step's interface that GCPC's custom job launcher already has,
    each old key -> its new key: :data:`RENAMED_PREFIX` before it until no name of the step or
    the launcher has it."""
    launcher = COMPONENTS["custom_job"]["interface"]
    found: list[dict[str, str]] = []
    for section in ("inputDefinitions", "outputDefinitions"):
        own = {k for specs in interface.get(section, {}).values() for k in specs}
        taken = set(launcher[section]["parameters"])
        used = own | taken
        renamed: dict[str, str] = {}
        for name in sorted(own & taken):
            new = RENAMED_PREFIX + name
            while new in used:
                new = RENAMED_PREFIX + new
            used.add(new)
            renamed[name] = new
        found.append(renamed)
    return found[0], found[1]


def _renamed(interface: Any, inputs: dict[str, str], outputs: dict[str, str]) -> dict[str, Any]:
    """A copy of ``interface`` with the renamed inputs and outputs under their new keys."""
    out = copy.deepcopy(dict(interface))
    for section, renamed in (("inputDefinitions", inputs), ("outputDefinitions", outputs)):
        for specs in out.get(section, {}).values():
            for old, new in renamed.items():
                if old in specs:
                    specs[new] = specs.pop(old)
    return out


def _secret_slots(step: Step) -> dict[str, ir.ParamRef]:
    """The inputs carrying secret names given by pipeline parameters, by input name."""
    return {
        SECRET_SLOT.format(i): s.name
        for i, s in enumerate(step.task.options.secrets)
        if isinstance(s.name, ir.ParamRef)
    }


def _with_secret_slots(step: Step, leaf: Leaf) -> Leaf:
    """``leaf`` with an input per secret named by a parameter, bound to that parameter."""
    slots = _secret_slots(step)
    if not slots:
        return leaf
    interface = copy.deepcopy(leaf.interface)
    params = interface.setdefault("inputDefinitions", {}).setdefault("parameters", {})
    for slot in slots:
        params[slot] = {"parameterType": "STRING"}
    task_inputs = {slot: step.resolve(param) for slot, param in slots.items()}
    return dataclasses.replace(
        leaf, interface=interface, task_inputs={**leaf.task_inputs, **task_inputs}
    )


def _is_registered(producer: tuple[ir.Task, ir.Component], step: Step) -> bool:
    value = step.task.inputs.get("model")
    refs = value.options if isinstance(value, ir.OneOfRef) else (value,)
    outputs = [r.output for r in refs if isinstance(r, ir.OutputRef)]
    port = producer[1].output(outputs[0]) if outputs else None
    return port is not None and port.type == "RegisteredModel"


def _framework(options: ir.StepOptions) -> str:
    """The serving framework of a model batch_predict stages, from its training step's
    packages (scikit-learn unless XGBoost, TensorFlow or PyTorch is installed)."""
    for package, framework in _FRAMEWORK_PACKAGES:
        if any(p.lower().startswith(package) for p in options.packages):
            return framework
    return "sklearn"


def _gcpc_leaf(key: str) -> Leaf:
    gcpc = copy.deepcopy(COMPONENTS[key])
    return Leaf(key.replace("_", "-"), gcpc["interface"], gcpc["executor"])


def _task(
    step: Step, component: str, inputs: dict[str, Any], after: list[str] | None = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "cachingOptions": {"enableCache": True} if step.task.options.cache else {},
        "componentRef": {"name": component},
        "inputs": {k: v for k, v in inputs.items() if v},
        "taskInfo": {"name": component},
    }
    if after:
        spec["dependentTasks"] = after
    return spec


def _pass_through(interface: Any) -> dict[str, Any]:
    """Task inputs reading every input of the enclosing composite by the same name."""
    definitions = interface.get("inputDefinitions", {})
    out: dict[str, Any] = {}
    for name in definitions.get("parameters", {}):
        out.setdefault("parameters", {})[name] = {"componentInputParameter": name}
    for name in definitions.get("artifacts", {}):
        out.setdefault("artifacts", {})[name] = {"componentInputArtifact": name}
    return out


def _constant(value: Any) -> dict[str, Any]:
    return {"runtimeValue": {"constant": pb_value(value)}}


def _output_parameter(task: str, key: str) -> dict[str, Any]:
    return {"taskOutputParameter": {"producerTask": task, "outputParameterKey": key}}


def _output_artifact(task: str, key: str) -> dict[str, Any]:
    return {"taskOutputArtifact": {"producerTask": task, "outputArtifactKey": key}}


def _limits(r: ir.Resources) -> dict[str, Any]:
    """Container limits, in the numeric fields and the string fields Vertex reads."""
    out: dict[str, Any] = {}
    amounts = quantities(r)
    if r.cpu:
        out["cpuLimit"] = float(r.cpu)
        out["resourceCpuLimit"] = amounts["cpu"]
    if r.memory_bytes:
        out["memoryLimit"] = r.memory_bytes / 1e9
        out["resourceMemoryLimit"] = amounts["memory"]
    if r.gpu:
        name = accelerator(r).vertex_name
        count = str(r.gpu)
        out["accelerator"] = {
            "count": count,
            "resourceCount": count,
            "type": name,
            "resourceType": name,
        }
    return out
