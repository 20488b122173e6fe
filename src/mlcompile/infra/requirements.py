"""What a pipeline needs from its cloud, read from the IR: the input of every generated stack.

The generator renders a stack from these facts and writes them to ``stack.json``, so the deploy
command and reviewers see the same list of model groups, endpoints, schedule and secret names the
stack creates or grants. Every name comes from :func:`mlcompile.naming.resource_name`, the
function the compilers call, so the stack creates exactly what the compiled spec refers to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

from mlcompile.errors import Diagnostic, SourceLocation, ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import scoped_tasks
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile


@dataclass(frozen=True)
class ModelGroup:
    """A model registry entry: the user's model name and the resource that holds its versions."""

    model: str
    name: str


@dataclass(frozen=True)
class Endpoint:
    """A serving endpoint a ``deploy_model`` step updates, and what its replicas need."""

    endpoint: str
    name: str
    model: str
    framework: str
    model_group: str
    cpu: float | None
    memory_bytes: int | None
    gpu: int
    min_replicas: int
    max_replicas: int


@dataclass(frozen=True)
class Schedule:
    """A five-field cron expression and its time zone, as the user wrote them."""

    name: str
    cron: str
    timezone: str


@dataclass(frozen=True)
class Requirements:
    """Everything a stack for one pipeline on one profile creates or grants, by name."""

    pipeline: str
    pipeline_name: str
    artifact_store: str
    container_registry: str
    kms_key: str
    identity: str
    model_groups: tuple[ModelGroup, ...]
    endpoints: tuple[Endpoint, ...]
    schedule: Schedule | None
    secrets: tuple[str, ...]
    training: bool
    batch_predict: bool
    #: URIs of the data the pipeline imports (literals, and parameters' defaults): read access
    #: to exactly these is granted beside the artifact store.
    imports: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def derive(pipeline: ir.Pipeline, profile: Profile) -> Requirements:
    """The requirements of ``pipeline`` on ``profile``; raises ValidationError for a secret whose
    name is a parameter without a default (no stack could grant access to it)."""
    tasks = list(_all_tasks(pipeline))
    problems: list[Diagnostic] = []
    secrets: set[str] = set()
    models: set[str] = set()
    endpoints: dict[str, Endpoint] = {}
    imports: set[str] = set()
    for owner, task in tasks:
        for secret in task.options.secrets:
            name = _secret_name(owner, task, secret, problems)
            if name is not None:
                secrets.add(name)
        builtin = owner.components[task.component].builtin
        if builtin is None:
            continue
        if builtin.op == "import_artifact":
            uri = _import_uri(owner, task)
            if uri is not None:
                imports.add(uri)
        elif builtin.op == "register_model":
            models.add(str(builtin.config["model_name"]))
        elif builtin.op == "deploy_model":
            endpoint = _endpoint(profile, owner, task, builtin)
            endpoints[endpoint.name] = endpoint
    if problems:
        raise ValidationError(problems)
    schedule = None
    if pipeline.schedule is not None:
        schedule = Schedule(
            resource_name(profile, "schedule", pipeline.name),
            pipeline.schedule.cron,
            pipeline.schedule.timezone,
        )
    return Requirements(
        pipeline=pipeline.name,
        pipeline_name=resource_name(profile, "pipeline", pipeline.name),
        artifact_store=resource_name(profile, "artifact-store"),
        container_registry=resource_name(profile, "container-registry"),
        kms_key=resource_name(profile, "kms-key"),
        identity=resource_name(profile, "pipeline-identity", pipeline.name),
        model_groups=tuple(
            ModelGroup(m, resource_name(profile, "model-group", m)) for m in sorted(models)
        ),
        endpoints=tuple(endpoints[name] for name in sorted(endpoints)),
        schedule=schedule,
        secrets=tuple(sorted(secrets)),
        training=any(task.options.role == "training" for _, task in tasks),
        batch_predict=any(_op(owner, task) == "batch_predict" for owner, task in tasks),
        imports=tuple(sorted(imports)),
    )


def _import_uri(owner: ir.Pipeline, task: ir.Task) -> str | None:
    """The cloud URI an import reads: a literal, or the default of the parameter giving it."""
    value = task.inputs.get("uri")
    text = value.value if isinstance(value, ir.Literal) else None
    if isinstance(value, ir.ParamRef):
        port = owner.parameter(value.name)
        text = port.default if port is not None else None
    return (
        text if isinstance(text, str) and "://" in text and not text.startswith("file:") else None
    )


def _all_tasks(pipeline: ir.Pipeline) -> Iterator[tuple[ir.Pipeline, ir.Task]]:
    """Every task with the pipeline that owns it, nested pipelines included."""
    for scoped in scoped_tasks(pipeline):
        yield pipeline, scoped.task
        nested = pipeline.components[scoped.task.component].pipeline
        if nested is not None:
            yield from _all_tasks(nested)


def _op(owner: ir.Pipeline, task: ir.Task) -> str | None:
    builtin = owner.components[task.component].builtin
    return builtin.op if builtin is not None else None


def _secret_name(
    owner: ir.Pipeline, task: ir.Task, secret: ir.SecretRef, problems: list[Diagnostic]
) -> str | None:
    """A literal name, or the default of the parameter that names the secret; None for a name
    a step gives at run time (Kubernetes secrets only, which the stack does not grant one by
    one)."""
    if isinstance(secret.name, ir.Literal):
        return str(secret.name.value)
    if isinstance(secret.name, ir.OutputRef):
        return None
    port = owner.parameter(secret.name.name)
    if port is not None and port.has_default and isinstance(port.default, str):
        return port.default
    problems.append(
        Diagnostic(
            "MLC117",
            f"step {task.name} reads a secret named by parameter {secret.name.name!r}, "
            "which has no default: the infrastructure cannot grant access to an unknown secret",
            SourceLocation(task.location.file, task.location.line),
            f"give {secret.name.name!r} a str default naming the secret the stack should grant",
        )
    )
    return None


def _endpoint(profile: Profile, owner: ir.Pipeline, task: ir.Task, builtin: ir.Builtin) -> Endpoint:
    """The endpoint a deploy step serves, with the model group whose versions it deploys."""
    model, framework = _registered_model(owner, task.inputs["model"])
    user_name = str(builtin.config["endpoint"])
    resources = task.options.resources
    return Endpoint(
        endpoint=user_name,
        name=resource_name(profile, "endpoint", user_name),
        model=model,
        framework=framework,
        model_group=resource_name(profile, "model-group", model),
        cpu=resources.cpu,
        memory_bytes=resources.memory_bytes,
        gpu=resources.gpu,
        min_replicas=int(builtin.config["min_replicas"]),
        max_replicas=int(builtin.config["max_replicas"]),
    )


def _registered_model(owner: ir.Pipeline, value: ir.Value) -> tuple[str, str]:
    """The model name and framework of the register step whose output a deploy step reads."""
    refs = value.options if isinstance(value, ir.OneOfRef) else (value,)
    for ref in refs:
        if isinstance(ref, ir.OutputRef):
            for scoped in scoped_tasks(owner):
                if scoped.task.name == ref.task:
                    builtin = owner.components[scoped.task.component].builtin
                    if builtin is not None and builtin.op == "register_model":
                        return str(builtin.config["model_name"]), str(builtin.config["framework"])
    raise ValueError("deploy_model reads a value no register_model step produced")
