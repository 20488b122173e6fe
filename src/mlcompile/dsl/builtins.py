"""Portable ML operations every platform maps to its own service.

``import_artifact`` brings data (or a model) that already lives at a URI into the pipeline,
``register_model`` puts a trained model into the platform's model registry, ``deploy_model``
serves a registered model at an endpoint, ``batch_predict`` runs a model over a dataset, and
``fail`` stops the run with a message (for example in the else branch of a quality gate).
"""

from __future__ import annotations

import re
from typing import Any

from mlcompile.dsl._ir import ir
from mlcompile.dsl.artifacts import Artifact, Dataset, Metrics, RegisteredModel
from mlcompile.dsl.location import caller_location
from mlcompile.dsl.monitoring import Monitor, monitor_ir
from mlcompile.dsl.options import Resources, normalize_resources
from mlcompile.dsl.step import bind_inputs
from mlcompile.dsl.trace import TaskBuilder, current_trace, to_value
from mlcompile.dsl.values import DslUsageError, ParamHandle, TaskHandle, ValueHandle, describe_value

#: URI schemes an imported artifact may have; a text without a scheme is a local path.
URI_SCHEMES = ("s3", "gs", "abfss", "file")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
APPROVAL_STATUSES = ("Approved", "PendingManualApproval", "Rejected")
FRAMEWORKS = ("sklearn", "xgboost", "lightgbm", "pytorch", "tensorflow", "custom")
_MODEL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def _builtin_task(
    op: ir.BuiltinOp,
    config: dict[str, Any],
    inputs: list[ir.Port],
    outputs: list[ir.Port],
    kwargs: dict[str, Any],
    resources: Resources | None = None,
    description: str = "",
    monitor: ir.Monitor | None = None,
) -> TaskHandle:
    trace = current_trace()
    call_site = caller_location()
    component = ir.Component(
        name=op,
        kind="builtin",
        description=description,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        location=trace.ir_location(call_site),
        builtin=ir.Builtin(op=op, config=config, monitor=monitor),
    )
    key = ("builtin", op, component.builtin.model_dump_json(), tuple(inputs))  # type: ignore[union-attr]
    name = trace.register_component(key, lambda: component)
    task_name = trace.unique_task_name(op)
    options = ir.StepOptions(
        resources=normalize_resources(resources, trace.sink, trace.location(call_site), task_name)
    )
    values = bind_inputs(trace.components[name], (), kwargs, trace, call_site, task_name)
    builder = TaskBuilder(task_name, name, values, options, call_site)
    return trace.add_task(builder, {p.name: p.type for p in outputs})


#: Why a registry or endpoint name is fixed when the pipeline compiles, not when a run starts.
_NAME_IS_IDENTITY = (
    "it names what the stack creates and grants access to before any run (the SageMaker model "
    "package group, the Vertex model and endpoint, the KServe InferenceService), so a run "
    "cannot choose it"
)


def _check_name(kind: str, value: object, pattern: re.Pattern[str], example: str) -> str:
    if isinstance(value, ValueHandle):
        raise DslUsageError(
            "MLC208",
            f"{kind} is {describe_value(value)}: {_NAME_IS_IDENTITY}",
            f"give a literal name, e.g. {example!r}; versions of one model are told apart by "
            "their version number and lineage",
        )
    if not isinstance(value, str) or not pattern.match(value):
        raise DslUsageError(
            "MLC119",
            f"{kind} {value!r} is not a valid name",
            f"use lowercase letters, digits and hyphens, starting with a letter, e.g. {example!r}",
        )
    return value


def import_artifact(
    uri: Any, *, artifact: type[Artifact] = Dataset, content_type: str | None = None
) -> TaskHandle:
    """The artifact at ``uri``: ``s3://``, ``gs://``, ``abfss://``, ``file://`` or a local path,
    or a str pipeline parameter or step output holding one. Its ``artifact`` output is read by
    steps like any other: the platform's importer (Kubeflow, Vertex) or a job input straight
    from the URI (SageMaker); locally a copy in the store, hashed by content, so a changed file
    reruns the steps that read it. A URI naming one object gives that file; a prefix, a folder.
    ``content_type`` is the data's media type, which a training channel reading it carries.
    """
    if not (isinstance(artifact, type) and issubclass(artifact, Artifact)) or artifact in (
        RegisteredModel,
        Metrics,
    ):
        raise DslUsageError(
            "MLC117",
            f"import_artifact(artifact=...) is {getattr(artifact, '__name__', artifact)!r}",
            "use Dataset (the default), Model or Artifact",
        )
    if isinstance(uri, str):
        scheme = _SCHEME.match(uri)
        if not uri.strip() or (scheme and scheme.group(1).lower() not in URI_SCHEMES):
            raise DslUsageError(
                "MLC117",
                f"import_artifact URI {uri!r} is not one mlcompile can import",
                "use s3://, gs://, abfss://, file:// or a local path, or a str pipeline parameter",
            )
        if "{" in uri or "}" in uri:
            raise DslUsageError(
                "MLC117",
                f"import_artifact URI {uri!r} is built from values at run time",
                "pass the whole URI as one str pipeline parameter or step output",
            )
    elif not isinstance(uri, ValueHandle) or uri.type not in ("str", "any"):
        raise DslUsageError(
            "MLC117",
            f"import_artifact URI is {describe_value(uri)}",
            "pass a str: a URI, a str pipeline parameter or a str step output",
        )
    from mlcompile.dsl.training import check_import_content_type

    check_import_content_type(content_type)
    config: dict[str, Any] = {"artifact_type": artifact.type_name}
    if content_type is not None:  # only when given: other pipelines keep their IR and hash
        config["content_type"] = content_type
    return _builtin_task(
        "import_artifact",
        config,
        [ir.Port(name="uri", type="str")],
        [ir.Port(name="artifact", type=artifact.type_name)],
        {"uri": uri},
        description=f"Import the {artifact.type_name} at a URI",
    )


def _check_serving(
    op: str,
    framework: object,
    framework_version: object,
    serving_image: object,
    description: object = "",
    *,
    image_given: bool = False,
) -> None:
    """The options that choose a model's serving image are literals (``image_given``: a
    parameter gives the image), and name a framework."""
    from mlcompile.dsl.options import runtime_value_in

    for option, value in (
        ("serving_image", serving_image),
        ("framework", framework),
        ("framework_version", framework_version),
        ("description", description),
    ):
        runtime = runtime_value_in(value)
        if runtime is not None:
            raise DslUsageError(
                "MLC208",
                f"{op} {option} is {runtime}; it is fixed when the pipeline is compiled",
                f"give {option} as a literal string (one per environment through the profile, "
                "or one pipeline per serving image)",
            )
    if framework is None:
        return
    if framework not in FRAMEWORKS:
        raise DslUsageError(
            "MLC117",
            f"{op} framework {framework!r} is not supported",
            f"use one of {', '.join(FRAMEWORKS)} (custom needs serving_image=...)",
        )
    if framework == "custom" and not (serving_image or image_given):
        raise DslUsageError(
            "MLC117",
            f"{op}(framework='custom') needs serving_image",
            "give the image that serves the model",
        )


def register_model(
    model: Any,
    *,
    name: str,
    framework: str = "sklearn",
    framework_version: str | None = None,
    approval: str | ParamHandle = "PendingManualApproval",
    metrics: Any = None,
    description: str = "",
    serving_image: str | ParamHandle | None = None,
    inference_instances: list[str] | None = None,
    transform_instances: list[str] | None = None,
) -> TaskHandle:
    """Register ``model`` as a new version of ``name`` in the platform's model registry.

    ``approval`` is Approved, PendingManualApproval or Rejected, or a str pipeline parameter.
    ``serving_image`` (an image of the user's own that serves the model) may be a str
    pipeline parameter: the image is then chosen when a run starts.
    ``inference_instances`` and ``transform_instances`` are the instance types the version may
    be served and batch-transformed on (SageMaker's model package lists them).
    Returns a task whose ``registered_model`` output can be deployed.
    """
    _check_name("model name", name, _MODEL_NAME, "churn")
    image_parameter = serving_image if isinstance(serving_image, ParamHandle) else None
    if image_parameter is not None and image_parameter.type != "str":
        raise DslUsageError(
            "MLC208",
            f"register_model serving_image is {image_parameter.type} parameter"
            f" {image_parameter.name!r}; an image is a str",
            "declare the parameter as str",
        )
    literal_image = None if image_parameter is not None else serving_image
    _check_serving(
        "register_model",
        framework,
        framework_version,
        literal_image,
        description,
        image_given=image_parameter is not None,
    )
    if isinstance(approval, str) and approval not in APPROVAL_STATUSES:
        raise DslUsageError(
            "MLC117",
            f"approval status {approval!r} is not one the registries know",
            f"use one of {', '.join(APPROVAL_STATUSES)}, or a str pipeline parameter",
        )
    inputs = [
        ir.Port(name="model", type="Model"),
        ir.Port(name="approval", type="str", default="PendingManualApproval", has_default=True),
    ]
    kwargs: dict[str, Any] = {"model": model, "approval": approval}
    if metrics is not None:
        inputs.append(ir.Port(name="metrics", type="Metrics"))
        kwargs["metrics"] = metrics
    if image_parameter is not None:
        # A run-time value reaches the registration as an input, as the approval status does.
        inputs.append(ir.Port(name="serving_image", type="str"))
        kwargs["serving_image"] = image_parameter
    config = {
        "model_name": name,
        "framework": framework,
        "framework_version": framework_version,
        "description": description,
        "serving_image": literal_image,
    }
    return _builtin_task(
        "register_model",
        {**config, **_instance_lists(inference_instances, transform_instances)},
        inputs,
        [ir.Port(name="registered_model", type="RegisteredModel")],
        kwargs,
        description=f"Register a version of model {name!r}",
    )


def _instance_lists(inference: Any, transform: Any) -> dict[str, list[str]]:
    """The instance lists given, checked; none given adds nothing to the IR."""
    from mlcompile.dsl.training import instance_list

    out: dict[str, list[str]] = {}
    for key, value in (("inference_instances", inference), ("transform_instances", transform)):
        found = instance_list(key, value)
        if found is not None:
            out[key] = found
    return out


def deploy_model(
    model: Any,
    *,
    endpoint: str,
    resources: Resources | None = None,
    min_replicas: int = 1,
    max_replicas: int = 1,
    monitor: Monitor | None = None,
) -> TaskHandle:
    """Serve a registered model at ``endpoint`` (created, or updated when it exists); with
    ``monitor``, compare what it receives with a baseline and act on drift."""
    _check_name("endpoint name", endpoint, _MODEL_NAME, "churn")
    if not (
        isinstance(min_replicas, int)
        and isinstance(max_replicas, int)
        and 1 <= min_replicas <= max_replicas
    ):
        raise DslUsageError(
            "MLC117",
            f"deploy_model replicas {min_replicas}..{max_replicas} are not a valid range",
            "give 1 <= min_replicas <= max_replicas",
        )
    declared = monitor_ir(monitor, endpoint, current_trace()) if monitor is not None else None
    return _builtin_task(
        "deploy_model",
        {"endpoint": endpoint, "min_replicas": min_replicas, "max_replicas": max_replicas},
        [ir.Port(name="model", type="RegisteredModel")],
        [ir.Port(name="endpoint", type="Artifact")],
        {"model": model},
        resources,
        description=f"Deploy to endpoint {endpoint!r}",
        monitor=declared,
    )


def batch_predict(
    model: Any,
    data: Any,
    *,
    resources: Resources | None = None,
    content_type: str = "text/csv",
    framework: str | None = None,
    framework_version: str | None = None,
    serving_image: str | None = None,
) -> TaskHandle:
    """Run ``model`` (trained or registered) over ``data``; the task's ``predictions`` output
    holds one prediction per input row.

    A registered model is served as it was registered. For a model that is not, platforms that
    serve it in a framework's image (SageMaker, Vertex AI) take the image from ``framework``
    (and ``framework_version``, or ``serving_image``), as ``register_model`` does.
    """
    if content_type not in ("text/csv", "application/jsonlines"):
        raise DslUsageError(
            "MLC117",
            f"batch_predict content_type {content_type!r} is not supported",
            "use text/csv or application/jsonlines",
        )
    _check_serving("batch_predict", framework, framework_version, serving_image)
    config: dict[str, Any] = {"content_type": content_type}
    # Only what is given: a pipeline that names no framework keeps the IR (and hash) it had.
    for key, value in (
        ("framework", framework),
        ("framework_version", framework_version),
        ("serving_image", serving_image),
    ):
        if value is not None:
            config[key] = value
    return _builtin_task(
        "batch_predict",
        config,
        [ir.Port(name="model", type="Model"), ir.Port(name="data", type="Dataset")],
        [ir.Port(name="predictions", type="Dataset")],
        {"model": model, "data": data},
        resources,
        description="Batch predictions",
    )


def fail(message: str) -> TaskHandle:
    """Fail the run with ``message``; an f-string may include parameters and step outputs."""
    if not isinstance(message, str):
        to_value(message)  # raises the usual diagnostic for handles of the wrong kind
    return _builtin_task(
        "fail",
        {},
        [ir.Port(name="message", type="str")],
        [],
        {"message": message},
        description="Fail the run",
    )
