"""Emitting the definition from the lowered plan: one SageMaker step per flat task.

Function steps become Processing jobs (Training jobs for ``kind='training'``) that unpack the
code bundle and run ``python -m mlcompile.runtime sagemaker run ...``; container steps run their
own command. Artifacts live under an execution-scoped prefix
``s3://<artifact store>/<pipeline>/runs/<PipelineExecutionId>/<step>/<output>`` and are read by
consumers through the producer's properties; scalar results go to a ``values`` property file read
with ``Std:JsonGet``. A training job's outputs besides its model, and its values, are in its
``output.tar.gz`` and its metrics (:mod:`.training`). Builtins map to RegisterModel, Model +
Transform and Fail steps; deploy runs the runtime's ``deploy`` command in a small Processing job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from mlcompile.bundle import Bundle
from mlcompile.errors import DiagnosticSink
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import content_hash
from mlcompile.ir.features import serves_own_image
from mlcompile.naming import resource_name
from mlcompile.platforms import unknown_options
from mlcompile.platforms.sagemaker import definition as d
from mlcompile.platforms.sagemaker.images import HANDLED as SERVING_HANDLED
from mlcompile.platforms.sagemaker.images import (
    is_ecr,
    job_image,
    no_serving_reason,
    serving_image,
)
from mlcompile.platforms.sagemaker.instances import (
    Api,
    NoInstance,
    has_instance_storage,
    instance_type,
    volume_gb,
)
from mlcompile.platforms.sagemaker.lowering import (
    Collected,
    FlatBool,
    FlatBranch,
    FlatCompare,
    FlatCondition,
    FlatNode,
    FlatTask,
    FlatValue,
    OneOf,
    Plan,
    Reporter,
    StepMetric,
    StepOutput,
    Template,
)
from mlcompile.platforms.sagemaker.names import renamed, shortened
from mlcompile.platforms.sagemaker.training import (
    HYPERPARAMETERS_FILE,
    INSTANCE_LISTS,
    MAX_METRICS,
    MODEL_ARCHIVE,
    NUMBERS,
    OUTPUT_ARCHIVE,
    final_metric,
    hyperparameter_problems,
    is_training,
    metric_definition,
    metric_name,
    model_output,
    output_archive,
    registrable_instances,
    valid_metric_name,
)
from mlcompile.profiles import Profile
from mlcompile.runtime.invoke import env_text
from mlcompile.runtime.sagemaker_serving import FRAMEWORK_VARIABLE
from mlcompile.runtime.sagemaker_serving import PROGRAM as SERVING_PROGRAM

PLATFORM = "sagemaker"
#: StartPipelineExecution's limits on PipelineParameters (checked against botocore in tests).
MAX_PARAMETERS = 200
MAX_PARAMETER_VALUE = 1024
VALUES = "values"  # property file of a step's scalar results
VALUES_OUTPUT = "mlc-values"  # its processing output (a hyphen: no clash with Python names)
VALUES_FILE = "values.json"
JSON_VALUES = "values-json"  # property file of the same results, each as its JSON text
JSON_VALUES_FILE = "values-json.json"
CODE_INPUT = "mlc-code"
#: A pipeline output in the Metadata that is whichever of its values a step that ran gives.
ONE_OF = "mlcompile:OneOf"
#: A pipeline output in the Metadata read from a file in a training job's output.tar.gz.
ARCHIVE_GET = "mlcompile:ArchiveGet"
#: Exception types SageMaker retries, per step kind (anything else, like a failure of the
#: step's own code, is never retried).
STEP_FAULTS = ("Step.SERVICE_FAULT", "Step.THROTTLING")
JOB_FAULTS = (
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
)
MAX_CNF_CLAUSES = 16
#: The most a RetryPolicy's MaxAttempts may be (the SDK's StepRetryPolicy checks 1..20; see
#: https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines-retry-policy.html).
MAX_ATTEMPTS = 20
SAGEMAKER_OPTIONS = {
    "instance_type": "the job's instance type, over the resources table (a literal or a str"
    " pipeline parameter)",
    "instance_count": "the instances of a container step's job or a batch transform (an int,"
    " or an int pipeline parameter): the image divides the work across the hosts, a transform"
    " its input files",
    "volume_size_gb": "the job's storage volume in GB",
    "arguments": "a dict deep-merged over the step's API arguments",
}
_BOOTSTRAP = (
    'set -e; python3 -m tarfile -e "$MLCOMPILE_BUNDLE" /opt/ml/mlcompile; '
    '[ -z "$MLCOMPILE_PIP" ] || python3 -m pip install -q --no-warn-script-location $MLCOMPILE_PIP; '
    'cd /opt/ml/mlcompile; exec python3 -m mlcompile.runtime sagemaker "$@"'
)
_OPS: dict[str, d.BinaryCondition] = {
    "==": "Equals",
    "!=": "Equals",
    ">": "GreaterThan",
    ">=": "GreaterThanOrEqualTo",
    "<": "LessThan",
    "<=": "LessThanOrEqualTo",
}


@dataclass(frozen=True)
class Download:
    """How a job reads an artifact: the S3 URI its input channel downloads, the archive in the
    channel's folder to unpack first ("" for none), and where the artifact is in that folder
    then ("" for the folder itself)."""

    uri: d.Expr
    archive: str
    path: str


def metrics_file(output: str) -> str:
    return f"metrics-{output}"


@dataclass(frozen=True)
class _Job:
    """Where a job kind puts inputs, outputs and the bundle inside its container."""

    kind: str  # "processing" | "training"

    def input_dir(self, name: str) -> str:
        if self.kind == "training":
            return f"/opt/ml/input/data/{name}"
        return f"/opt/ml/processing/input/{name}"

    def output_path(self, name: str, model: bool) -> str:
        """Where a job writes output ``name``; ``model``: the training job's model."""
        if self.kind == "training":
            return f"/opt/ml/model/{name}" if model else f"/opt/ml/output/data/{name}"
        return f"/opt/ml/processing/output/{name}/{name}"

    def values_dir(self) -> str:
        if self.kind == "training":
            return "/opt/ml/output/data"
        return f"/opt/ml/processing/output/{VALUES_OUTPUT}"


class Emitter(Reporter):
    def __init__(
        self,
        pipeline: ir.Pipeline,
        plan: Plan,
        profile: Profile,
        bundle: Bundle,
        sink: DiagnosticSink,
    ) -> None:
        self.p = pipeline
        self.plan = plan
        self.profile = profile
        self.sink = sink
        self.name = resource_name(profile, "pipeline", pipeline.name)
        self.bucket = resource_name(profile, "artifact-store")
        self.bundle_uri = f"s3://{self.bucket}/{self.name}/code/{bundle.file_name}"
        self.bundle_file = bundle.file_name
        self.role = profile.sagemaker.role_arn or role_arn(profile, pipeline.name)
        self.tasks = {t.name: t for t in plan.tasks()}
        #: import_artifact tasks: no step of their own, so nothing can depend on them.
        self.imports = {
            name
            for name, t in self.tasks.items()
            if t.component.builtin is not None and t.component.builtin.op == "import_artifact"
        }
        #: Steps whose results a container reads inside a collected list: they also write each
        #: result as JSON text (the ``values-json`` property file), for the list's text.
        self.json_values = {
            item.step
            for t in self.tasks.values()
            if t.component.kind == "container"
            for value in t.inputs.values()
            if isinstance(value, Collected)
            for item in value.items
            if isinstance(item, StepOutput)
            and not self.is_artifact(item)
            and not self.training(item.step)
        }
        #: Each training step's metrics: its returned numbers, and the Metrics entries read.
        self.metrics = self.training_metrics()
        self.warned_images: set[str] = set()
        #: Lowered step names too long for SageMaker, each with the name the definition uses.
        self.shortened: dict[str, str] = {}
        #: Each IR step (as runs show it) with the SageMaker steps it became.
        self.step_names: dict[str, list[str]] = {}

    # ----- diagnostics -------------------------------------------------------------------

    # ----- the definition ----------------------------------------------------------------

    def definition(self) -> d.Definition:
        steps = tuple(self.nodes(self.plan.body))
        outputs = {name: self.output_expr(v) for name, v in sorted(self.plan.outputs.items())}
        # Names past SageMaker's 64 characters are shortened here, once every step exists, so
        # each reference to a step is renamed with it.
        every = d.Definition((), steps).all_steps()
        self.shortened = shortened([s.name for s in every])
        steps = renamed(steps, self.shortened)
        self.step_names = {
            path: [self.shortened.get(n, n) for n in names]
            for path, names in sorted(self.step_names.items())
        }
        metadata = {"mlcompile-ir-hash": content_hash(self.p), "mlcompile-pipeline": self.p.name}
        for name, expr in renamed(outputs, self.shortened).items():
            metadata[f"mlcompile-output-{name}"] = json.dumps(
                d.to_json(expr), sort_keys=True, separators=(",", ":")
            )
        parameters = tuple(self.parameter(p) for p in self.p.parameters)
        self.check_parameter_limits(parameters)
        return d.Definition(parameters, steps, metadata)

    def check_parameter_limits(self, parameters: tuple[d.Parameter, ...]) -> None:
        """What StartPipelineExecution takes (botocore's ParameterList and String1024 shapes),
        so a run is not refused only when it starts."""
        if len(parameters) > MAX_PARAMETERS:
            self.error(
                "MLC406",
                f"pipeline {self.p.name!r} has {len(parameters)} parameters; a SageMaker execution"
                f" takes at most {MAX_PARAMETERS}",
                self.p.location,
                "pass related settings as one dict or list parameter (it travels as JSON text)",
                self.p.name,
            )
        for param in parameters:
            if isinstance(param.default, str) and len(param.default) > MAX_PARAMETER_VALUE:
                self.error(
                    "MLC406",
                    f"the default of parameter {param.name!r} is {len(param.default)} characters;"
                    f" a SageMaker parameter value takes at most {MAX_PARAMETER_VALUE}",
                    self.p.location,
                    "keep large values in a file the pipeline reads (import_artifact(uri)), and"
                    " pass its URI",
                    self.p.name,
                )

    def output_expr(self, value: FlatValue) -> Any:
        """How a pipeline output is read from an execution (the definition's Metadata): an
        expression, a list of them (fan-in), or ``{"mlcompile:OneOf": [...]}``, the value of
        whichever of them a step that ran gives (a merge, whose other branch did not run)."""
        if isinstance(value, OneOf):
            return {ONE_OF: [self.output_expr(v) for v in value.options]}
        if isinstance(value, StepOutput) and self.is_artifact(value):
            return self.artifact_uri(value)
        archived = self.archived_value(value)
        if archived is not None:
            # The exact value, from the file in output.tar.gz (the metric is a 32-bit float).
            step, file, key = archived
            return {ARCHIVE_GET: {"S3Uri": output_archive(step), "File": file, "Path": key}}
        if isinstance(value, Collected):
            return [self.output_expr(v) for v in value.items]
        return self.scalar(value, None)

    def parameter(self, port: ir.Port) -> d.Parameter:
        kinds: dict[str, d.ParameterType] = {
            "int": "Integer",
            "float": "Float",
            "bool": "Boolean",
        }
        kind = kinds.get(port.type, "String")
        default = port.default if port.has_default else None
        if port.type in ("list", "dict") and port.has_default:
            default = json.dumps(port.default, sort_keys=True)
        if port.type == "float" and isinstance(default, int) and not isinstance(default, bool):
            default = float(default)
        return d.Parameter(port.name, kind, default)

    def nodes(self, nodes: list[FlatNode]) -> list[d.Step]:
        out: list[d.Step] = []
        for node in nodes:
            made = [self.condition_step(node)] if isinstance(node, FlatBranch) else self.task(node)
            self.step_names.setdefault(node.path, []).extend(s.name for s in made)
            out.extend(made)
        return out

    # ----- values ------------------------------------------------------------------------

    def producer(self, ref: StepOutput | StepMetric) -> FlatTask:
        return self.tasks[ref.step]

    def port_type(self, ref: StepOutput) -> str:
        port = self.producer(ref).component.output(ref.output)
        return port.type if port else "str"

    def is_artifact(self, ref: StepOutput) -> bool:
        return ir.is_artifact_type(self.port_type(ref))

    def training(self, step: str) -> bool:
        """Whether the step ``step`` is a training job (a function or container step)."""
        task = self.tasks.get(step)
        return task is not None and is_training(task.task, task.component)

    def in_model(self, ref: StepOutput) -> bool:
        """Whether ``ref`` is the output a training job packs into model.tar.gz."""
        return ref.output == model_output(self.producer(ref).component)

    def archived_value(self, value: FlatValue) -> tuple[str, str, str] | None:
        """(training step, file in its output.tar.gz, key) of a value a training step gives
        other than its model: a returned value (values.json), or a Metrics entry."""
        if isinstance(value, StepMetric) and self.training(value.step):
            return value.step, value.output, value.key
        if (
            isinstance(value, StepOutput)
            and self.training(value.step)
            and not self.is_artifact(value)
        ):
            return value.step, VALUES_FILE, value.output
        return None

    def training_metrics(self) -> dict[str, list[str]]:
        """Each training step's metric names: every number it returns, and every entry of its
        Metrics artifacts that the pipeline reads (the entries exist only at run time)."""
        out: dict[str, list[str]] = {}
        for task in self.tasks.values():
            if is_training(task.task, task.component):
                out[task.name] = [
                    metric_name(p.name) for p in task.component.outputs if p.type in NUMBERS
                ]
        for value in _plan_values(self.plan):
            if isinstance(value, StepMetric) and value.step in out:
                name = metric_name(value.output, value.key)
                if valid_metric_name(name) and name not in out[value.step]:
                    out[value.step].append(name)
        return out

    def artifact_uri(self, ref: StepOutput) -> d.Expr:
        """The S3 location a consumer reads, as a property of the producing step."""
        producer = self.producer(ref)
        op = producer.component.builtin.op if producer.component.builtin else None
        if op == "import_artifact":  # no step: the job reads the URI itself
            return self.scalar(producer.inputs["uri"], None)
        if op == "batch_predict":
            return d.Get(f"Steps.{ref.step}.TransformOutput.S3OutputPath")
        if op == "register_model":
            return d.Get(f"Steps.{ref.step}.ModelPackageArn")
        if self.training(ref.step):
            if self.in_model(ref):
                return d.Get(f"Steps.{ref.step}.ModelArtifacts.S3ModelArtifacts")
            return output_archive(ref.step)
        return d.Get(
            f"Steps.{ref.step}.ProcessingOutputConfig.Outputs['{ref.output}'].S3Output.S3Uri"
        )

    def is_file_value(self, ref: StepOutput) -> bool:
        """A value a container step's command wrote to a file (``Output[int]``)."""
        producer = self.producer(ref)
        return producer.component.kind == "container" and not self.is_artifact(ref)

    def value_file_uri(self, ref: StepOutput) -> d.Expr:
        return d.Get(
            f"Steps.{ref.step}.ProcessingOutputConfig.Outputs['{ref.output}'].S3Output.S3Uri"
        )

    def is_import(self, ref: StepOutput) -> bool:
        builtin = self.producer(ref).component.builtin
        return builtin is not None and builtin.op == "import_artifact"

    def artifact_file(self, ref: StepOutput) -> str:
        """The file a consumer finds in the folder its input is downloaded to: the artifact
        itself, or the archive holding it ("" for the folder itself)."""
        found = self.download(ref)
        return found.archive or found.path

    def download(self, ref: StepOutput) -> Download:
        """How a job's input channel reads the artifact ``ref``.

        A registered model is read as the model files the registry holds: the model package's
        ARN (``ModelPackageArn``) is no S3 URI, and CreateProcessingJob refuses it as an
        input's ``S3Uri``. The RegisterModel step's properties are DescribeModelPackage's
        response (https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-propertyfile.html,
        "Data dependency"), whose ``InferenceSpecification.Containers[0]`` holds the model data
        the package was registered with: the training job's archive (``ModelDataUrl``), or the
        folder a processing step wrote (``ModelDataSource.S3DataSource.S3Uri``). Reading the
        property keeps the consumer after the registration, as the IR says.
        """
        producer = self.producer(ref)
        op = producer.component.builtin.op if producer.component.builtin else None
        if op == "import_artifact":
            # A job input keeps the key's name after the URI's last '/' (a key: its file).
            uri = producer.inputs["uri"]
            text = uri.value if isinstance(uri, ir.Literal) else ""
            name = text.rsplit("/", 1)[-1] if isinstance(text, str) else ""
            return Download(self.artifact_uri(ref), "", name)
        if op == "batch_predict":
            return Download(self.artifact_uri(ref), "", "")
        if op == "register_model":
            model = producer.inputs.get("model")
            if not isinstance(model, StepOutput):
                return Download(self.artifact_uri(ref), "", "")
            source = self.download(model)
            container = f"Steps.{ref.step}.InferenceSpecification.Containers[0]"
            if source.archive:
                return replace(source, uri=d.Get(f"{container}.ModelDataUrl"))
            return replace(source, uri=d.Get(f"{container}.ModelDataSource.S3DataSource.S3Uri"))
        if self.training(ref.step):
            archive = MODEL_ARCHIVE if self.in_model(ref) else OUTPUT_ARCHIVE
            return Download(self.artifact_uri(ref), archive, ref.output)
        return Download(self.artifact_uri(ref), "", ref.output)

    def refuse(self, reader: FlatTask | FlatBranch, code: str, message: str, hint: str) -> None:
        self.error(code, message, reader.location, hint, _reader(reader))

    def training_metric(
        self, value: StepMetric | StepOutput, reader: FlatTask | FlatBranch | None
    ) -> d.Expr:
        """A training step's number as the pipeline reads it: the job's final metric."""
        producer = self.producer(value)
        if isinstance(value, StepMetric):
            name = metric_name(value.output, value.key)
            what = f"{value.output}[{value.key!r}]"
            problem = (
                ""
                if valid_metric_name(name)
                else f"a metric is named {name!r}, and a name has only letters, digits and _ . : -"
            )
        else:
            name = metric_name(value.output)
            what = repr(value.output)
            kind = self.port_type(value)
            problem = "" if kind in NUMBERS else f"{what} is a {kind}, not a number"
        if problem and reader is not None:
            self.refuse(
                reader,
                "MLC403",
                f"{_reader(reader)} reads {what} of training step {producer.task.name!r}; "
                f"SageMaker reads a training job's values only as its metrics, and {problem}",
                "read it in a function step (it gets the exact value from the job's output), or "
                "return it from a processing step (drop kind='training')",
            )
        elif producer.component.container is not None and reader is not None:
            self.refuse(
                reader,
                "MLC403",
                f"{_reader(reader)} reads {what} of container training step "
                f"{producer.task.name!r}; SageMaker reads a training job's numbers from the "
                "metrics its log prints, which only the step runtime of a function step prints",
                "read it in a function step, or make the training step a function step",
            )
        return final_metric(value.step, name)

    def not_archived(self, task: FlatTask, ref: StepOutput, what: str) -> None:
        """Refuse an artifact a service reads from S3 as a file, when a training job packed it
        into output.tar.gz."""
        if self.training(ref.step) and not self.in_model(ref):
            self.error(
                "MLC403",
                f"step {task.task.name!r} passes {ref.output!r} of training step "
                f"{self.producer(ref).task.name!r} as {what}; SageMaker packs a training job's "
                "outputs other than its model into output.tar.gz, which that service does not "
                "unpack",
                task.location,
                "write it from a processing step (drop kind='training' on the step making it)",
                task.task.name,
            )

    def run_prefix(self, *parts: str) -> d.Join:
        execution = d.Get("Execution.PipelineExecutionId")
        return d.Join("/", ("s3:/", self.bucket, self.name, "runs", execution, *parts))

    def scalar(self, value: FlatValue, task: FlatTask | FlatBranch | None) -> d.Expr:
        """A value as a definition expression; problems are reported against ``task`` (the
        step or condition reading it)."""
        if isinstance(value, ir.Literal):
            v = value.value
            if isinstance(v, str | int | float | bool):
                return v
            return json.dumps(v, sort_keys=True)
        if isinstance(value, ir.ParamRef):
            return d.Get(f"Parameters.{value.name}")
        if isinstance(value, StepMetric | StepOutput) and self.archived_value(value) is not None:
            return self.training_metric(value, task)
        if isinstance(value, StepMetric):
            return d.JsonGet(value.step, metrics_file(value.output), value.key)
        if isinstance(value, StepOutput):
            if self.is_artifact(value):
                return self.artifact_uri(value)
            if self.is_file_value(value):
                producer = self.producer(value)
                self.refuse(
                    task if task is not None else producer,
                    "MLC401",
                    f"sagemaker reads output {value.output!r} of container step"
                    f" {producer.task.name!r} only in a Python step: the value is a file in S3,"
                    " and conditions, container arguments and pipeline outputs take values from"
                    " JSON property files",
                    "pass it to a Python step input, or have the container write a Metrics"
                    " file and compare metrics['name']",
                )
                return ""
            return d.JsonGet(value.step, VALUES, value.output)
        if isinstance(value, Template):
            return d.Join(
                "",
                tuple(p if isinstance(p, str) else self.scalar(p, task) for p in value.parts),
            )
        if task is not None:
            self.refuse(
                task,
                "MLC401",
                f"sagemaker cannot pass a {'merged' if isinstance(value, OneOf) else 'collected'} "
                f"value here (used by {task.task.name if isinstance(task, FlatTask) else task.name})",
                "pass it to a function step input",
            )
        return ""

    # ----- conditions --------------------------------------------------------------------

    def condition_step(self, node: FlatBranch) -> d.Step:
        clauses = _cnf(_nnf(node.condition, False))
        if len(clauses) > MAX_CNF_CLAUSES:
            self.error(
                "MLC401",
                f"sagemaker cannot express condition {node.name!r}: it expands to {len(clauses)} "
                f"clauses (SageMaker has Or and Not but no And inside Or)",
                node.location,
                "split it into nested when() blocks",
                node.name,
            )
            clauses = []
        conditions: list[d.Condition] = []
        for clause in clauses:
            literals = tuple(self.literal(lit, node) for lit in clause)
            conditions.append(literals[0] if len(literals) == 1 else d.OrCondition(literals))
        return d.Step(
            name=node.name,
            type="Condition",
            arguments={
                "Conditions": conditions,
                "IfSteps": self.nodes(node.then),
                "ElseSteps": self.nodes(node.otherwise),
            },
            origin=(node.location.file, node.location.line),
        )

    def literal(self, lit: tuple[bool, FlatCompare], node: FlatBranch) -> d.Condition:
        negated, compare = lit
        sides = []
        for side in (compare.left, compare.right):
            if isinstance(side, OneOf | Collected):
                self.error(
                    "MLC401",
                    f"sagemaker cannot compare a {'merged' if isinstance(side, OneOf) else 'collected'} "
                    f"value in condition {node.name!r}",
                    node.location,
                    "compare a parameter, a step result or a metric",
                    node.name,
                )
            sides.append(self.scalar(side, None if isinstance(side, OneOf | Collected) else node))
        cond: d.Condition = d.Compare(_OPS[compare.op], sides[0], sides[1])
        if negated != (compare.op == "!="):
            cond = d.NotCondition(cond)
        return cond

    # ----- tasks -------------------------------------------------------------------------

    def task(self, task: FlatTask) -> list[d.Step]:
        component = task.component
        sm_options = task.task.options.platform_options.get("sagemaker", {})
        runtime = ("instance_type", "instance_count")
        for problem in unknown_options(PLATFORM, SAGEMAKER_OPTIONS, task.task, runtime):
            self.sink.add(replace(problem, location=task.location.source()))
        if component.builtin is not None:
            steps = self.builtin(task, component.builtin)
        elif component.kind == "container" and component.container is not None:
            steps = [self.job(task, self.container_command(task, component.container))]
        else:
            steps = [self.job(task, None)]
        extra = sm_options.get("arguments")
        if isinstance(extra, dict) and steps:
            last = steps[-1]
            steps[-1] = replace(last, arguments=_merge(last.arguments, extra))
        return steps

    def common(self, task: FlatTask) -> dict[str, Any]:
        o = task.task.options
        return {
            "depends_on": tuple(a for a in dict.fromkeys(task.after) if a not in self.imports),
            "display_name": o.display_name,
            "description": next(iter(task.component.description.strip().splitlines()), None),
            "origin": (task.location.file, task.location.line),
        }

    def retries(self, task: FlatTask, job: bool) -> tuple[d.RetryPolicy, ...]:
        r = task.task.options.retry
        if not r.count:
            return ()
        if r.count > MAX_ATTEMPTS:
            self.warn(
                "MLC405",
                f"step {task.task.name!r} retries {r.count} times; SageMaker's RetryPolicies allow "
                f"at most {MAX_ATTEMPTS} attempts (MaxAttempts), so it retries {MAX_ATTEMPTS} times",
                task.location,
                f"use retries={MAX_ATTEMPTS} or fewer to run the same on every platform",
                task.task.name,
            )
        kw = {
            "max_attempts": min(r.count, MAX_ATTEMPTS),
            "interval_seconds": r.backoff_seconds or 1,
            "backoff_rate": r.backoff_factor or 2.0,
        }
        policies = [d.RetryPolicy(STEP_FAULTS, **kw)]  # type: ignore[arg-type]
        if job:
            policies.append(d.RetryPolicy(JOB_FAULTS, **kw))  # type: ignore[arg-type]
        return tuple(policies)

    def instance(self, task: FlatTask, api: Api, options: ir.StepOptions | None = None) -> d.Expr:
        """The instance type for ``task``, from the instance-type enum of ``api``'s request."""
        chosen = (options or task.task.options).platform_options.get("sagemaker", {})
        parameter = ir.option_parameter(chosen.get("instance_type"))
        if parameter is not None:
            return self.option_parameter(task, "instance_type", parameter, "str")
        try:
            return instance_type(
                task.name, task.task.name, options or task.task.options, self.profile, api
            )
        except NoInstance as exc:
            self.error(
                "MLC403",
                f"step {task.task.name!r}: {exc}",
                task.location,
                f"lower the request, or set instance_types[{task.task.name!r}] in the profile",
                task.task.name,
            )
            return "ml.m5.large"

    def instance_count(self, task: FlatTask) -> d.Expr:
        """How many instances ``task``'s job runs on: one, unless a container step or a batch
        transform asks for more (a literal or an int pipeline parameter, as the SageMaker
        samples' instance-count parameters). A Python step's function would run once per
        instance, each writing the same outputs, so only a container step's image, which sees
        the hosts, and a transform, which splits its input files between them, may have more."""
        given = task.task.options.platform_options.get("sagemaker", {}).get("instance_count")
        if given is None:
            return 1
        builtin = task.component.builtin
        # A transform job splits its input files between its instances, as a container's
        # image divides its own work.
        batch = builtin is not None and builtin.op == "batch_predict"
        if (task.component.kind != "container" or builtin is not None) and not batch:
            reason, hint = (
                (
                    "an endpoint's instances are deploy_model's min_replicas and max_replicas",
                    "give deploy_model(min_replicas=..., max_replicas=...)",
                )
                if builtin is not None and builtin.op == "deploy_model"
                else (
                    "this step's code would run once per instance, each writing the same outputs",
                    "leave instance_count out, or run the work as a container_step whose image"
                    " divides it across the job's hosts",
                )
            )
            self.error(
                "MLC207",
                f"step {task.task.name!r}: platform_options['sagemaker']['instance_count'] is"
                f" for a container step's job or a batch transform; {reason}",
                task.location,
                hint,
                task.task.name,
            )
            return 1
        parameter = ir.option_parameter(given)
        if parameter is not None:
            return self.option_parameter(task, "instance_count", parameter, "int")
        if isinstance(given, bool) or not isinstance(given, int) or given < 1:
            self.error(
                "MLC207",
                f"step {task.task.name!r}: platform_options['sagemaker']['instance_count'] is"
                f" {given!r}, not a whole number of instances",
                task.location,
                "give an int of 1 or more, or an int pipeline parameter",
                task.task.name,
            )
            return 1
        return given

    def volume_key(self, instance: d.Expr) -> dict[str, d.Expr]:
        """The stack's key for the job's storage volume (``VolumeKmsKeyId``), named by its
        alias. Instances with local NVMe storage are encrypted by the hardware, and SageMaker
        rejects a volume key for them; an instance type chosen when the run starts cannot be
        told apart, so its volume keeps SageMaker's default encryption."""
        if not isinstance(instance, str) or has_instance_storage(instance):
            return {}
        alias = f"alias/{resource_name(self.profile, 'kms-key')}"
        return {"VolumeKmsKeyId": _arn(self.profile, "kms", alias)}

    def env_value(self, value: str | FlatValue, task: FlatTask) -> d.Expr:
        """An environment variable: literal text, or a run-time value (a pipeline parameter,
        ``Get Parameters.<name>``) turned into the text the job's environment holds."""
        if isinstance(value, str):
            return value
        expr = self.scalar(value, task)
        if isinstance(value, ir.ParamRef):
            port = self.p.parameter(value.name)
            if port is not None and port.type == "str":
                return expr
        if isinstance(expr, str | int | float | bool):  # a nested pipeline's bound literal
            return env_text(expr)
        return d.Join("", (expr,))

    def option_parameter(self, task: FlatTask, option: str, name: str, wanted: str) -> d.Expr:
        """``Get Parameters.<name>``: SageMaker resolves job settings from pipeline parameters
        at run time (the SDK's ParameterString instance types); the parameter must be the
        pipeline's own and of the type the field takes."""
        port = self.p.parameter(name)
        if port is None or port.type != wanted:
            self.error(
                "MLC208",
                f"step {task.task.name!r}: platform_options['sagemaker'][{option!r}] is"
                f" {'not a pipeline parameter' if port is None else f'a {port.type} parameter'};"
                f" SageMaker takes a {wanted} parameter of the pipeline itself here",
                task.location,
                f"declare a {wanted} parameter on the pipeline you compile and pass it",
                task.task.name,
            )
        return d.Get(f"Parameters.{name}")

    def image(self, task: FlatTask, image: d.Expr) -> d.Expr:
        """The image, refused unless SageMaker can pull it (Amazon ECR only); one a run
        chooses is the run's to get right."""
        if not isinstance(image, str):
            return image
        if image and not is_ecr(image) and image not in self.warned_images:
            self.warned_images.add(image)
            own = self.profile.images.registry
            if own and image.startswith((f"{own}@", f"{own}:")):
                # The profile chose this registry (a mirror, or one on this machine to try
                # the images): said, not refused.
                from mlcompile.errors import Diagnostic

                self.sink.add(
                    Diagnostic(
                        "MLC403",
                        f"step {task.task.name!r} runs image {image!r} from images.registry; "
                        "SageMaker jobs pull images from Amazon ECR only",
                        task.location.source(),
                        "unset images.registry to push step images to the stack's ECR repository",
                        "warning",
                        PLATFORM,
                        task.task.name,
                    )
                )
                return image
            self.error(
                "MLC403",
                f"step {task.task.name!r} (and any other using it) runs image {image!r}; "
                "SageMaker jobs pull images from Amazon ECR only",
                task.location,
                "build the step image with `mlcompile images` (it is pushed to "
                f"{resource_name(self.profile, 'container-registry')} in ECR), or name an ECR "
                "image in image= (step) or default_image (profile)",
                task.task.name,
            )
        return image

    def job_image(self, task: FlatTask, packages: tuple[str, ...] | None = None) -> d.Expr:
        """The step's image (``Get Parameters.X`` for one a run chooses); else the profile's;
        else the AWS-managed framework image its packages call for (in ECR, with a Python the
        step side runs on)."""
        o = task.task.options
        if isinstance(o.image, ir.ParamRef):
            return d.Get(f"Parameters.{o.image.name}")
        if o.image:
            return o.image
        if task.component.container is not None:
            return task.component.container.image
        if self.profile.default_image:
            return self.profile.default_image
        found = job_image(
            o.packages if packages is None else packages,
            self.profile.region,
            gpu=o.resources.gpu > 0,
        )
        if found is None:
            self.error(
                "MLC403",
                f"step {task.task.name!r}: SageMaker has no managed framework image in region "
                f"{self.profile.region!r}",
                task.location,
                "set default_image in the profile or image= on the step to an ECR image, "
                "or build one with `mlcompile images`",
                task.task.name,
            )
            return ""
        return found.uri

    # ----- function and container jobs ---------------------------------------------------

    def container_command(
        self, task: FlatTask, spec: ir.ContainerSpec
    ) -> tuple[list[d.Expr], list[d.Expr]]:
        job = _Job("training" if task.task.options.role == "training" else "processing")

        def render(arg: tuple[str | ir.Placeholder, ...]) -> d.Expr:
            parts: list[d.Expr] = []
            for part in arg:
                if isinstance(part, str):
                    parts.append(part)
                elif part.kind == "output_path":
                    model = job.kind == "training" and part.name == model_output(task.component)
                    parts.append(job.output_path(part.name, model))
                else:
                    value = task.inputs.get(part.name, ir.Literal(value=None))
                    if part.kind == "input_path" and isinstance(value, StepOutput):
                        # A container command unpacks no archive itself: it gets the archive.
                        parts.append(
                            f"{job.input_dir(part.name)}/{self.artifact_file(value)}".rstrip("/")
                        )
                    elif isinstance(value, Collected):
                        parts.extend(self.list_text(task, part.name, value, job))
                    else:
                        parts.append(d.as_string(self.scalar(value, task)))
            if all(isinstance(p, str) for p in parts):
                return "".join(str(p) for p in parts)
            return parts[0] if len(parts) == 1 else d.Join("", tuple(parts))

        return [render(a) for a in spec.command], [render(a) for a in spec.args]

    def list_text(self, task: FlatTask, name: str, value: Collected, job: _Job) -> list[d.Expr]:
        """A collected list as a container argument: the JSON text other platforms give it
        (``json.dumps(values, sort_keys=True)``), joined at run time from each value's own
        JSON text; for artifacts, the JSON list of their paths in the job's input folders.

        The loop was unrolled, so each value is a known step's result. ``Std:Join`` renders a
        string bare, so a step's result is read from the JSON text its step side wrote beside
        it (the ``values-json`` property file), which quotes and escapes as ``json.dumps``.
        """
        port = task.component.input(name)
        if port is not None and ir.is_artifact_type(port.type):
            paths = [
                f"{job.input_dir(f'{name}-{i}')}/{self.artifact_file(ref)}".rstrip("/")
                for i, ref in enumerate(value.items)
                if isinstance(ref, StepOutput)
            ]
            return [json.dumps(paths)]
        parts: list[d.Expr] = ["["]
        for index, item in enumerate(value.items):
            if index:
                parts.append(", ")
            if isinstance(item, StepOutput) and item.step in self.json_values:
                parts.append(d.JsonGet(item.step, JSON_VALUES, item.output))
            elif isinstance(item, ir.Literal):
                parts.append(json.dumps(item.value, sort_keys=True))
            elif isinstance(item, ir.ParamRef) and self.param_type(item.name) == "str":
                parts += ['"', d.Get(f"Parameters.{item.name}"), '"']
            else:
                parts.append(d.as_string(self.scalar(item, task)))
        parts.append("]")
        return parts

    def param_type(self, name: str) -> str:
        port = self.p.parameter(name)
        return port.type if port else "str"

    def job(self, task: FlatTask, command: tuple[list[d.Expr], list[d.Expr]] | None) -> d.Step:
        o = task.task.options
        training = o.role == "training"
        job = _Job("training" if training else "processing")
        inputs: list[tuple[str, d.Expr]] = []  # (input/channel name, S3 URI)
        #: The channel of each archive downloaded: one per archive, however many inputs read it.
        archives: dict[d.Expr, str] = {}
        args: list[d.Expr] = []

        def channel_of(uri: d.Expr, archive: str, name: str) -> tuple[str, list[d.Expr]]:
            """The channel downloading ``uri`` (a new one named ``name``), and the step side's
            arguments unpacking it the first time."""
            if archive and uri in archives:
                return archives[uri], []
            inputs.append((name, uri))
            if not archive:
                return name, []
            archives[uri] = name
            return name, ["--archive", job.input_dir(name)]

        #: A training job's scalar inputs travel as its HyperParameters, not as arguments.
        hyper = self.hyperparameters(task) if training else {}
        if command is None:
            fn = task.component.function
            assert fn is not None
            args = ["run", "--code", fn.file, "--function", fn.function]
            inputs.append((CODE_INPUT, self.bundle_uri))
            if hyper:
                args += ["--hyperparameters", HYPERPARAMETERS_FILE]
        for name, value in sorted(task.inputs.items()):
            port = task.component.input(name)
            port_type = port.type if port else "str"
            if ir.is_artifact_type(port_type):
                refs = value.items if isinstance(value, Collected) else (value,)
                many = isinstance(value, Collected)
                if many:
                    args += ["--list", name, "artifact"]
                for index, ref in enumerate(refs):
                    if not isinstance(ref, StepOutput):
                        continue
                    found = self.download(ref)
                    channel, unpack = channel_of(
                        found.uri, found.archive, f"{name}-{index}" if many else name
                    )
                    if self.is_import(ref):
                        # The runtime finds the file or folder the URI names under the input.
                        uri = d.as_string(found.uri)
                        args += ["--imported", name, job.input_dir(channel), uri]
                        continue
                    args += [*unpack, "--input", name]
                    args.append(f"{job.input_dir(channel)}/{found.path}".rstrip("/"))
            elif command is not None:
                continue
            elif isinstance(value, Collected):
                element = (
                    self.port_type(value.items[0])
                    if value.items and isinstance(value.items[0], StepOutput)
                    else "str"
                )
                args += ["--list", name, element]
                for index, item in enumerate(value.items):
                    archived = self.archived_value(item)
                    if archived is not None:
                        step, file, key = archived
                        channel, unpack = channel_of(
                            output_archive(step), OUTPUT_ARCHIVE, f"{name}-{index}"
                        )
                        args += [*unpack, "--value", name, f"{job.input_dir(channel)}/{file}", key]
                    else:
                        args += ["--item", name, d.as_string(self.scalar(item, task))]
            elif (archived := self.archived_value(value)) is not None:
                # A value a training step left in its output.tar.gz: the archive as an input
                # channel, unpacked, and the value read from its file.
                step, file, key = archived
                channel, unpack = channel_of(output_archive(step), OUTPUT_ARCHIVE, name)
                args += [*unpack, "--value", name, f"{job.input_dir(channel)}/{file}", key]
            elif isinstance(value, ir.Literal) and value.value is None:
                args += ["--null", name]
            elif isinstance(value, StepOutput) and self.is_file_value(value):
                # A value a container step wrote to a file: the job downloads the file and the
                # runtime reads it as the parameter.
                channel = f"{name}-value"
                inputs.append((channel, self.value_file_uri(value)))
                args += ["--param-file", name, f"{job.input_dir(channel)}/{value.output}"]
            elif name in hyper:
                continue
            else:
                args += ["--param", name, d.as_string(self.scalar(value, task))]
        outputs = [p for p in task.component.outputs if ir.is_artifact_type(p.type)]
        scalars = [p for p in task.component.outputs if not ir.is_artifact_type(p.type)]
        model = model_output(task.component) if training else None
        if command is None:
            for port in outputs:
                args += ["--output", port.name, job.output_path(port.name, port.name == model)]
            args += ["--values", f"{job.values_dir()}/{VALUES_FILE}"]
            args += _step_side_retry(o.retry)
            if self.metrics.get(task.name):
                args += ["--metrics"]  # print them for the job's MetricDefinitions
            if task.name in self.json_values:
                args += ["--json-values", f"{job.values_dir()}/{JSON_VALUES_FILE}"]
            for secret in task.secrets:
                args += [
                    "--secret",
                    secret.env,
                    d.as_string(self.scalar(secret.name, task)),
                    secret.key or "",
                ]
            if task.secrets:
                backend = self.profile.effective_secrets_backend
                if backend != "aws-secrets-manager":
                    self.error(
                        "MLC403",
                        f"step {task.task.name!r} reads secrets from {backend!r}; SageMaker steps read AWS Secrets Manager",
                        task.location,
                        "set secrets_backend: aws-secrets-manager in the profile",
                        task.task.name,
                    )
                args += ["--backend", backend]
        env = {k: self.env_value(v, task) for k, v in sorted(task.env.items())}
        image = self.image(task, self.job_image(task))
        if command is None:
            packages = list(o.packages)  # the bundled runtime needs only the standard library
            pinned = isinstance(image, str) and "@sha256:" in image  # boto3 is built in
            if task.secrets and not pinned:
                packages.append("boto3")
            env["MLCOMPILE_PIP"] = " ".join(packages)
            env["MLCOMPILE_BUNDLE"] = f"{job.input_dir(CODE_INPUT)}/{self.bundle_file}"
            entrypoint: list[d.Expr] = ["/bin/sh", "-c", _BOOTSTRAP, "mlcompile-step"]
        else:
            entrypoint, args = command
        if training:
            arguments = self.training_args(task, image, entrypoint, args, inputs, env)
            arguments = self.training_inputs(task, arguments, hyper)
            property_files: tuple[d.PropertyFile, ...] = ()
        else:
            out_names = [p.name for p in outputs]
            if command is None and scalars:
                out_names.append(VALUES_OUTPUT)
            elif scalars:  # a container step writes each value to a file of its own
                out_names += [p.name for p in scalars]
            arguments = self.processing_args(task, image, entrypoint, args, inputs, out_names, env)
            property_files = tuple(
                d.PropertyFile(metrics_file(p.name), p.name, p.name)
                for p in outputs
                if p.type == "Metrics"
            )
            if command is None and scalars:
                property_files = (
                    d.PropertyFile(VALUES, VALUES_OUTPUT, VALUES_FILE),
                    *property_files,
                )
            if command is None and scalars and task.name in self.json_values:
                property_files = (
                    d.PropertyFile(JSON_VALUES, VALUES_OUTPUT, JSON_VALUES_FILE),
                    *property_files,
                )
        return d.Step(
            name=task.name,
            type="Training" if training else "Processing",
            arguments=arguments,
            retry_policies=self.retries(task, job=True),
            cache=d.CacheConfig(enabled=o.cache),
            property_files=property_files,
            **self.common(task),
        )

    def processing_args(
        self,
        task: FlatTask,
        image: d.Expr,
        entrypoint: list[d.Expr],
        args: list[d.Expr],
        inputs: list[tuple[str, d.Expr]],
        outputs: list[str],
        env: dict[str, d.Expr],
    ) -> dict[str, Any]:
        o = task.task.options
        job = _Job("processing")
        sm = o.platform_options.get("sagemaker", {})
        instance = self.instance(task, "processing")
        arguments: dict[str, Any] = {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": self.instance_count(task),
                    "InstanceType": instance,
                    "VolumeSizeInGB": sm.get("volume_size_gb", volume_gb(o)),
                    **self.volume_key(instance),
                }
            },
            "AppSpecification": {
                "ImageUri": image,
                "ContainerEntrypoint": entrypoint,
                "ContainerArguments": args,
            },
            "RoleArn": self.role,
            "ProcessingInputs": [
                {
                    "InputName": name,
                    "S3Input": {
                        "S3Uri": uri,
                        "LocalPath": job.input_dir(name),
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                        "S3CompressionType": "None",
                    },
                }
                for name, uri in inputs
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": name,
                        "S3Output": {
                            "S3Uri": self.run_prefix(task.name, name),
                            "LocalPath": f"/opt/ml/processing/output/{name}",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                    for name in outputs
                ]
            },
        }
        if not args:
            del arguments["AppSpecification"]["ContainerArguments"]
        if not entrypoint:
            del arguments["AppSpecification"]["ContainerEntrypoint"]
        if not inputs:
            del arguments["ProcessingInputs"]
        if not outputs:
            del arguments["ProcessingOutputConfig"]
        if env:
            arguments["Environment"] = env
        if o.timeout_seconds:
            arguments["StoppingCondition"] = {"MaxRuntimeInSeconds": o.timeout_seconds}
        return arguments

    def training_args(
        self,
        task: FlatTask,
        image: d.Expr,
        entrypoint: list[d.Expr],
        args: list[d.Expr],
        inputs: list[tuple[str, d.Expr]],
        env: dict[str, d.Expr],
    ) -> dict[str, Any]:
        o = task.task.options
        sm = o.platform_options.get("sagemaker", {})
        arguments: dict[str, Any] = {
            "AlgorithmSpecification": {
                "TrainingImage": image,
                "TrainingInputMode": "File",
                "ContainerEntrypoint": entrypoint,
                "ContainerArguments": args,
            },
            "RoleArn": self.role,
            "InputDataConfig": [
                {
                    "ChannelName": name,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": uri,
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                    "InputMode": "File",
                }
                for name, uri in inputs
            ],
            "OutputDataConfig": {"S3OutputPath": self.run_prefix(task.name)},
            "ResourceConfig": {
                "InstanceCount": self.instance_count(task),
                "InstanceType": self.instance(task, "training"),
                "VolumeSizeInGB": sm.get("volume_size_gb", volume_gb(o)),
                **self.volume_key(self.instance(task, "training")),
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": o.timeout_seconds or 86400},
        }
        metrics = self.metrics.get(task.name, [])
        if len(metrics) > MAX_METRICS:
            self.error(
                "MLC403",
                f"training step {task.task.name!r} reports {len(metrics)} metrics (its returned "
                f"numbers and the Metrics entries read); a SageMaker training job defines at most "
                f"{MAX_METRICS}",
                task.location,
                "return fewer numbers, or read the others in a function step from a Metrics artifact",
                task.task.name,
            )
        if metrics and task.component.function is not None:
            arguments["AlgorithmSpecification"]["MetricDefinitions"] = [
                metric_definition(m) for m in metrics[:MAX_METRICS]
            ]
        if not args:
            del arguments["AlgorithmSpecification"]["ContainerArguments"]
        if not entrypoint:  # the training image's own entrypoint runs (``docker run IMAGE train``)
            del arguments["AlgorithmSpecification"]["ContainerEntrypoint"]
        if not inputs:
            del arguments["InputDataConfig"]
        if env:
            arguments["Environment"] = env
        return arguments

    # ----- training jobs as SageMaker knows them ---------------------------------------------

    def hyperparameters(self, task: FlatTask) -> dict[str, d.Expr]:
        """A training job's scalar inputs as its ``HyperParameters`` (a map of strings, each the
        text the step side would get as an argument: JSON for lists, dicts and numbers, a str
        as it is, as the SDK's ModelTrainer serialises them). Inputs only a file or an archive
        holds, lists collected from a loop and None stay arguments."""
        out: dict[str, d.Expr] = {}
        for name, value in sorted(task.inputs.items()):
            port = task.component.input(name)
            if port is not None and ir.is_artifact_type(port.type):
                continue
            if isinstance(value, Collected) or self.archived_value(value) is not None:
                continue
            if isinstance(value, ir.Literal) and value.value is None:
                continue
            if isinstance(value, StepOutput) and self.is_file_value(value):
                continue
            out[name] = d.as_string(self.scalar(value, task))
        for problem in hyperparameter_problems(out):
            self.error(
                "MLC406",
                f"training step {task.task.name!r}: {problem}",
                task.location,
                "pass large or many settings as one artifact the step reads (import_artifact),"
                " or shorten the input's name",
                task.task.name,
            )
        return out

    def channel_content_types(self, task: FlatTask) -> dict[str, str]:
        """Each input channel's ContentType: the step's ``content_types`` for the input, else
        the one its ``import_artifact`` gave."""
        out: dict[str, str] = {}
        for name, value in sorted(task.inputs.items()):
            refs = value.items if isinstance(value, Collected) else (value,)
            for index, ref in enumerate(refs):
                if not isinstance(ref, StepOutput):
                    continue
                builtin = self.producer(ref).component.builtin
                imported = builtin.config.get("content_type") if builtin is not None else None
                chosen = task.task.options.content_types.get(name) or imported
                if chosen:
                    out[f"{name}-{index}" if isinstance(value, Collected) else name] = str(chosen)
        return out

    def training_inputs(
        self, task: FlatTask, arguments: dict[str, Any], hyper: dict[str, d.Expr]
    ) -> dict[str, Any]:
        """The job's HyperParameters, and each channel's ContentType
        (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_Channel.html)."""
        out = dict(arguments)
        if hyper:
            out["HyperParameters"] = hyper
        types = self.channel_content_types(task)
        if types and "InputDataConfig" in out:
            out["InputDataConfig"] = [
                {**c, "ContentType": types[c["ChannelName"]]} if c["ChannelName"] in types else c
                for c in out["InputDataConfig"]
            ]
        return out

    def instance_lists(self, task: FlatTask, config: Mapping[str, Any]) -> dict[str, Any]:
        """register_model's inference and transform instance types, each in the enum
        CreateModelPackage takes for it."""
        out: dict[str, Any] = {}
        for option, member in INSTANCE_LISTS.items():
            listed = config.get(option)
            if not listed:
                continue
            offered = registrable_instances(member)
            for instance in listed:
                if instance not in offered:
                    self.error(
                        "MLC403",
                        f"step {task.task.name!r}: {option} holds {instance!r}, which"
                        f" CreateModelPackage does not take in {member}",
                        task.location,
                        "name an instance type SageMaker offers there, e.g. "
                        f"{sorted(offered)[0]!r}",
                        task.task.name,
                    )
            out[member] = list(listed)
        return out

    # ----- builtins ----------------------------------------------------------------------

    def builtin(self, task: FlatTask, builtin: ir.Builtin) -> list[d.Step]:
        if builtin.op == "fail":
            message = task.inputs.get("message", ir.Literal(value=""))
            return [
                d.Step(
                    name=task.name,
                    type="Fail",
                    arguments={"ErrorMessage": d.as_string(self.scalar(message, task))},
                    **self.common(task),
                )
            ]
        if builtin.op == "import_artifact":
            return []  # its readers take the URI as their job input
        if builtin.op == "register_model":
            return [self.register(task, builtin)]
        if builtin.op == "batch_predict":
            return self.batch_predict(task, builtin)
        if builtin.monitor is not None:
            return [self.deploy(task, builtin), self.baseline(task, builtin)]
        return [self.deploy(task, builtin)]

    def baseline(self, task: FlatTask, builtin: ir.Builtin) -> d.Step:
        """Model Monitor's baselining job over the monitor's baseline data set, writing the
        statistics and constraints the endpoint's monitoring schedule compares with.

        It runs the built-in analyzer image, not our statistics: the schedule's job is that same
        analyzer, and it reads only the baseline format it writes itself.
        """
        from mlcompile.infra.model_monitor import model_monitor_image
        from mlcompile.monitor.declaration import monitored_endpoints

        config = builtin.config
        endpoint = resource_name(self.profile, "endpoint", str(config["endpoint"]))
        found = next(m for m in monitored_endpoints(self.p) if m.task.name == task.task.name)
        ref = found.baseline
        assert ref is not None  # check_monitors reported a missing baseline before lowering
        source = StepOutput(ref.task, ref.output)
        self.not_archived(task, source, "the monitor's baseline data set")
        local = "/opt/ml/processing/input/baseline_dataset_input"
        arguments: dict[str, Any] = {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                    "VolumeSizeInGB": 20,
                    **self.volume_key("ml.m5.large"),
                }
            },
            "AppSpecification": {"ImageUri": model_monitor_image(self.profile.region)},
            "RoleArn": self.role,
            "ProcessingInputs": [
                {
                    "InputName": "baseline_dataset_input",
                    "S3Input": {
                        "S3Uri": self.artifact_uri(source),
                        "LocalPath": local,
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                        "S3CompressionType": "None",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "monitoring_output",
                        "S3Output": {
                            "S3Uri": f"s3://{self.bucket}/monitoring/{endpoint}/baseline",
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "Environment": {
                "dataset_format": json.dumps({"csv": {"header": True}}),
                "dataset_source": local,
                "output_path": "/opt/ml/processing/output",
                "publish_cloudwatch_metrics": "Disabled",
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        }
        return d.Step(
            name=f"{task.name}-baseline",
            type="Processing",
            arguments=arguments,
            cache=d.CacheConfig(enabled=task.task.options.cache),
            description=f"Model Monitor baseline of endpoint {endpoint}",
            origin=(found.monitor.location.file, found.monitor.location.line),
        )

    def model_data(self, ref: StepOutput) -> dict[str, Any]:
        """A model container's data: a training job's archive, or a processing step's folder."""
        if self.download(ref).archive:
            return {"ModelDataUrl": self.artifact_uri(ref)}
        return {
            "ModelDataSource": {
                "S3DataSource": {
                    "S3Uri": d.Join("", (self.artifact_uri(ref), "/")),
                    "S3DataType": "S3Prefix",
                    "CompressionType": "None",
                }
            }
        }

    def serving_environment(
        self, config: Mapping[str, Any], task: FlatTask | None = None
    ) -> dict[str, Any]:
        """The scikit-learn and XGBoost serving containers load our model through a script (the
        scikit-learn one has no default ``model_fn``): ours, from the code bundle, as the SDK's
        SKLearnModel and XGBoostModel set it, told which framework the image was chosen for."""
        framework = str(config.get("framework") or "sklearn")
        own = serves_own_image(config, task.inputs if task is not None else {})
        if own or framework not in SERVING_HANDLED:
            return {}
        return {
            "Environment": {
                FRAMEWORK_VARIABLE: framework,
                "SAGEMAKER_PROGRAM": SERVING_PROGRAM,
                "SAGEMAKER_SUBMIT_DIRECTORY": self.bundle_uri,
            }
        }

    def serving_image_for(
        self, task: FlatTask, config: Mapping[str, Any], op: str = "register_model"
    ) -> d.Expr:
        """The image serving a model of ``config``'s framework (a register_model's, or a
        batch_predict's), or its own ``serving_image`` (a pipeline parameter's at run time)."""
        given = task.inputs.get("serving_image")
        if given is not None:
            return self.scalar(given, task)
        image = config.get("serving_image") or serving_image(
            str(config.get("framework")), config.get("framework_version"), self.profile.region
        )
        if not image:
            self.error(
                "MLC403",
                f"step {task.task.name!r}: SageMaker has no first-party serving image for "
                f"framework {config.get('framework')!r} in {self.profile.region}: "
                + no_serving_reason(str(config.get("framework")), self.profile.region),
                task.location,
                f"give {op}(..., serving_image='<ECR image>')",
                task.task.name,
            )
            return ""
        return str(image)

    def register(self, task: FlatTask, builtin: ir.Builtin) -> d.Step:
        config = builtin.config
        model = task.inputs.get("model")
        container: dict[str, Any] = {
            "Image": self.serving_image_for(task, config),
            **self.serving_environment(config, task),
        }
        if isinstance(model, StepOutput):
            container.update(self.model_data(model))
        approval = task.inputs.get("approval", ir.Literal(value="PendingManualApproval"))
        arguments: dict[str, Any] = {
            "ModelPackageGroupName": resource_name(
                self.profile, "model-group", str(config["model_name"])
            ),
            "InferenceSpecification": {
                "Containers": [container],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelApprovalStatus": self.scalar(approval, task),
        }
        arguments["InferenceSpecification"].update(self.instance_lists(task, config))
        if config.get("description"):
            arguments["ModelPackageDescription"] = config["description"]
        metrics = task.inputs.get("metrics")
        if isinstance(metrics, StepOutput):
            self.not_archived(task, metrics, "register_model's metrics (ModelQuality statistics)")
            arguments["ModelMetrics"] = {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": d.Join("/", (self.artifact_uri(metrics), metrics.output)),
                    }
                }
            }
        return d.Step(
            name=task.name,
            type="RegisterModel",
            arguments=arguments,
            retry_policies=self.retries(task, job=False),
            **self.common(task),
        )

    def registration_of(self, ref: StepOutput) -> FlatTask | None:
        """The register_model step that registers the model ``ref``, if any."""
        for other in self.tasks.values():
            builtin = other.component.builtin
            if builtin and builtin.op == "register_model" and other.inputs.get("model") == ref:
                return other
        return None

    def batch_predict(self, task: FlatTask, builtin: ir.Builtin) -> list[d.Step]:
        model = task.inputs.get("model")
        data = task.inputs.get("data")
        model_name = f"{task.name}-model"
        container: dict[str, Any] = {}
        if isinstance(model, StepOutput) and self.port_type(model) == "RegisteredModel":
            container["ModelPackageName"] = self.artifact_uri(model)
        elif isinstance(model, StepOutput):
            # The serving image: what batch_predict says, else what the pipeline registers
            # this model with.
            registration = self.registration_of(model)
            if builtin.config.get("framework") or builtin.config.get("serving_image"):
                container["Image"] = self.serving_image_for(task, builtin.config, "batch_predict")
                container.update(self.serving_environment(builtin.config))
            elif registration is not None and registration.component.builtin is not None:
                registered = registration.component.builtin.config
                container["Image"] = self.serving_image_for(registration, registered)
                container.update(self.serving_environment(registered, registration))
            else:
                self.error(
                    "MLC403",
                    f"step {task.task.name!r}: a SageMaker transform job needs a serving image, "
                    "and nothing says which framework this model uses",
                    task.location,
                    "say it: batch_predict(model, data, framework='sklearn') (or xgboost, or "
                    "serving_image='<ECR image>'); or pass a registered model "
                    "(register_model(...).registered_model)",
                    task.task.name,
                )
            container.update(self.model_data(model))
        if isinstance(data, StepOutput):
            self.not_archived(task, data, "the data a transform job scores")
        common = self.common(task)
        model_step = d.Step(
            name=model_name,
            type="Model",
            arguments={"ExecutionRoleArn": self.role, "PrimaryContainer": container},
            retry_policies=self.retries(task, job=False),
            **{**common, "display_name": None, "description": "Model for batch predictions"},
        )
        content_type = builtin.config.get("content_type", "text/csv")
        transform = {
            "ModelName": d.Get(f"Steps.{model_name}.ModelName"),
            "TransformInput": {
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": self.artifact_uri(data)
                        if isinstance(data, StepOutput)
                        else self.scalar(data or ir.Literal(value=""), task),
                    }
                },
                "ContentType": content_type,
                # Each file is one request, so a CSV header travels with its rows and the
                # handlers read the data as every platform does (files up to 100 MB).
                "SplitType": "None",
            },
            "BatchStrategy": "SingleRecord",
            "MaxPayloadInMB": 100,
            "TransformOutput": {
                "S3OutputPath": self.run_prefix(task.name, "predictions"),
                "Accept": content_type,
            },
            "TransformResources": {
                "InstanceCount": self.instance_count(task),
                "InstanceType": self.instance(task, "transform"),
                **self.volume_key(self.instance(task, "transform")),
            },
        }
        return [
            model_step,
            d.Step(
                name=task.name,
                type="Transform",
                arguments=transform,
                retry_policies=self.retries(task, job=True),
                cache=d.CacheConfig(enabled=task.task.options.cache),
                **{**common, "depends_on": common["depends_on"]},
            ),
        ]

    def deploy(self, task: FlatTask, builtin: ir.Builtin) -> d.Step:
        config = builtin.config
        model = task.inputs.get("model")
        package: d.Expr = ""
        if isinstance(model, StepOutput) and self.port_type(model) == "RegisteredModel":
            package = self.artifact_uri(model)
        else:
            self.error(
                "MLC403",
                f"step {task.task.name!r}: SageMaker deploys a model package",
                task.location,
                "deploy the registered_model output of register_model(...)",
                task.task.name,
            )
        endpoint = resource_name(self.profile, "endpoint", str(config["endpoint"]))
        instance = self.instance(task, "endpoint")
        # Captured requests and the endpoint's volume are encrypted with the stack's key, named
        # through its alias so the spec needs no key id; the model runs as the endpoint's own
        # serving role, not the pipeline's (unless the profile brings one role for everything).
        key = _arn(self.profile, "kms", f"alias/{resource_name(self.profile, 'kms-key')}")
        serving = resource_name(self.profile, "pipeline-identity", f"{config['endpoint']}-serving")
        serving_role = self.profile.sagemaker.role_arn or _arn(
            self.profile, "iam", f"role/{serving}"
        )
        args: list[d.Expr] = [
            "deploy",
            "--model-package",
            package,
            "--endpoint",
            endpoint,
            "--instance-type",
            instance,
            "--replicas",
            str(config.get("min_replicas", 1)),
            str(config.get("max_replicas", 1)),
            "--role",
            serving_role,
            "--capture",
            f"s3://{self.bucket}/data-capture/{endpoint}/",
            key,
        ]
        # Local NVMe is encrypted by the hardware and refuses a volume key; for a type chosen
        # when the run starts (``Get Parameters.X``) the deploy step decides.
        if not isinstance(instance, str) or not has_instance_storage(instance):
            args += ["--volume-key", key]
        args += ["--output", "endpoint", "/opt/ml/processing/output/endpoint/endpoint"]
        env: dict[str, d.Expr] = {
            "MLCOMPILE_PIP": "boto3",
            "MLCOMPILE_BUNDLE": f"/opt/ml/processing/input/{CODE_INPUT}/{self.bundle_file}",
        }
        job_options = ir.StepOptions()  # the job only calls APIs: the smallest instance
        image = self.image(task, self.job_image(task, ()))
        arguments = self.processing_args(
            FlatTask(
                task.name,
                task.task.model_copy(update={"options": job_options}),
                task.component,
                {},
                (),
                (),
            ),
            image,
            ["/bin/sh", "-c", _BOOTSTRAP, "mlcompile-step"],
            args,
            [(CODE_INPUT, self.bundle_uri)],
            ["endpoint"],
            env,
        )
        arguments["ProcessingResources"]["ClusterConfig"]["InstanceType"] = "ml.t3.medium"
        return d.Step(
            name=task.name,
            type="Processing",
            arguments=arguments,
            retry_policies=self.retries(task, job=True),
            cache=d.CacheConfig(enabled=False),
            **self.common(task),
        )


def role_arn(profile: Profile, pipeline: str) -> str:
    """The execution role the infra stack creates for this pipeline."""
    return _arn(profile, "iam", f"role/{resource_name(profile, 'pipeline-identity', pipeline)}")


def _arn(profile: Profile, service: str, resource: str) -> str:
    """The ARN of a resource the infra stack creates (IAM is global: no region)."""
    partition = (
        "aws-cn"
        if profile.region.startswith("cn-")
        else "aws-us-gov"
        if profile.region.startswith("us-gov-")
        else "aws"
    )
    region = "" if service == "iam" else profile.region
    return f"arn:{partition}:{service}:{region}:{profile.account}:{resource}"


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` deep-merged over ``base`` (the platform_options escape hatch)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# ----- boolean forms -------------------------------------------------------------------------

_Literal = tuple[bool, FlatCompare]  # (negated, comparison)


def _nnf(c: FlatCondition, negate: bool) -> FlatCondition | _Literal:
    """Negation pushed down to the comparisons (De Morgan)."""
    if isinstance(c, FlatCompare):
        return (negate, c)
    if c.kind == "not":
        return _nnf(c.operands[0], not negate)
    kind = c.kind if not negate else ("or" if c.kind == "and" else "and")
    parts = tuple(_nnf(o, negate) for o in c.operands)
    return FlatBool(kind, parts)  # type: ignore[arg-type]


def _cnf(c: FlatCondition | _Literal) -> list[list[_Literal]]:
    """Clauses (ANDed) of literals (ORed): SageMaker's list of conditions with Or inside."""
    if isinstance(c, tuple):
        return [[c]]
    if isinstance(c, FlatCompare):
        return [[(False, c)]]
    parts = [_cnf(o) for o in c.operands]
    if c.kind == "and":
        return [clause for part in parts for clause in part]
    clauses: list[list[_Literal]] = [[]]
    for part in parts:
        clauses = [left + right for left in clauses for right in part]
        if len(clauses) > MAX_CNF_CLAUSES * 4:
            break
    return clauses


def _step_side_retry(retry: ir.Retry) -> list[d.Expr]:
    """The step side retries the function inside the job: SageMaker's RetryPolicies retry only
    service faults, never the step's own failure (see "Retry Policy" in the SageMaker Pipelines
    developer guide), and other platforms retry both."""
    if not retry.count:
        return []

    def text(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    return [
        "--retry",
        str(retry.count),
        text(retry.backoff_seconds),
        text(retry.backoff_factor),
        text(retry.max_backoff_seconds),
    ]


def _reader(reader: FlatTask | FlatBranch) -> str:
    """How a diagnostic names what reads a value: a step, or a condition."""
    if isinstance(reader, FlatTask):
        return f"step {reader.task.name!r}"
    return f"condition {reader.name!r}"


def _plan_values(plan: Plan) -> list[FlatValue]:
    """Every value the plan reads: step inputs, conditions, pipeline outputs (and the values
    inside templates, lists and merges)."""
    found: list[FlatValue] = []

    def add(value: FlatValue) -> None:
        found.append(value)
        if isinstance(value, Template):
            for part in value.parts:
                if not isinstance(part, str):
                    add(part)
        elif isinstance(value, Collected):
            for item in value.items:
                add(item)
        elif isinstance(value, OneOf):
            for option in value.options:
                add(option)

    def condition(c: FlatCondition) -> None:
        if isinstance(c, FlatCompare):
            add(c.left)
            add(c.right)
        else:
            for operand in c.operands:
                condition(operand)

    def visit(nodes: list[FlatNode]) -> None:
        for node in nodes:
            if isinstance(node, FlatTask):
                for value in node.inputs.values():
                    add(value)
            else:
                condition(node.condition)
                visit(node.then)
                visit(node.otherwise)

    visit(plan.body)
    for value in plan.outputs.values():
        add(value)
    return found
