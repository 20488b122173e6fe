"""What a SageMaker training job gives the steps after it, besides its model.

A training job has no processing outputs and no property files. SageMaker documents two ways
out of it (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html):

- ``/opt/ml/model`` is packed into ``model.tar.gz`` (the ``ModelArtifacts.S3ModelArtifacts``
  property); a training step's first ``Output[Model]`` goes there, as before.
- ``/opt/ml/output/data`` is packed into ``output.tar.gz`` next to it, at
  ``<OutputDataConfig.S3OutputPath>/<TrainingJobName>/output/output.tar.gz`` (the layout the
  SageMaker Developer Guide gives for a notebook job step's outputs, which are training jobs, in
  "Pass information to and from your notebook step"; the ``model.tar.gz`` of the same job sits
  in that ``output/`` folder). The step's other artifacts (a Metrics file, a data set) and its
  returned values (``values.json``) are written there; a function step reading them gets the
  archive as an input channel, and the step side unpacks it (``--archive``) and reads the file
  or the value (``--value``), as it unpacks a model archive.

Numbers the pipeline itself reads (a condition, a container's argument, a ``fail()`` message)
must be step properties: the job's metrics. ``AlgorithmSpecification.MetricDefinitions`` names
each metric with a regular expression that SageMaker searches the job's stdout and stderr for
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MetricDefinition.html; the
expression's first group is the value, as in
https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-metrics-variables.html);
the step side prints ``mlcompile-metric <name>=<value>;`` for each number it returns and each
entry of each Metrics artifact it writes, and the pipeline reads the last value found as
``Steps.<train>.FinalMetricDataList['<name>'].Value``. That value is a 32-bit float in the API
(``MetricData.Value``), so a condition compares that rounding of the number; steps read the
exact number from ``output.tar.gz``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from mlcompile.ir import nodes as ir
from mlcompile.platforms.sagemaker import definition as d

MODEL_ARCHIVE = "model.tar.gz"
OUTPUT_ARCHIVE = "output.tar.gz"
#: What the step side prints in front of each metric (runtime/sagemaker.py prints it).
METRIC_LINE = "mlcompile-metric"
#: A training job defines at most this many metrics (MetricDefinitions, FinalMetricDataList).
MAX_METRICS = 40
#: Characters a metric name may have here: the name sits in a property path
#: (``FinalMetricDataList['<name>']``) and, escaped, in a regular expression.
_METRIC_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,255}$")
NUMBERS = ("int", "float")


def model_output(component: ir.Component) -> str | None:
    """The output a training job packs into ``model.tar.gz``: its first ``Output[Model]``."""
    return next((p.name for p in component.outputs if p.type == "Model"), None)


def is_training(task: ir.Task, component: ir.Component) -> bool:
    """A function or container step that runs as a training job."""
    return task.options.role == "training" and component.builtin is None


def metric_name(output: str, key: str | None = None) -> str:
    """A returned number is the metric ``<output>``; an entry of a Metrics artifact is
    ``<artifact>:<key>`` (built-in algorithms name theirs ``validation:auc`` alike)."""
    return output if key is None else f"{output}:{key}"


def valid_metric_name(name: str) -> bool:
    return _METRIC_NAME.match(name) is not None


def metric_definition(name: str) -> dict[str, str]:
    """A MetricDefinition whose first group captures what the step side prints for ``name``."""
    return {"Name": name, "Regex": f"{METRIC_LINE} {re.escape(name)}=(.*?);"}


def final_metric(step: str, name: str) -> d.Get:
    return d.Get(f"Steps.{step}.FinalMetricDataList['{name}'].Value")


def output_archive(step: str) -> d.Join:
    """The S3 URI of the training step's ``output.tar.gz``, from its own properties."""
    return d.Join(
        "/",
        (
            d.Get(f"Steps.{step}.OutputDataConfig.S3OutputPath"),
            d.Get(f"Steps.{step}.TrainingJobName"),
            "output",
            OUTPUT_ARCHIVE,
        ),
    )


# ----- hyperparameters, channels and what a model package names ---------------------------

#: Where SageMaker writes a training job's HyperParameters map for the container
#: (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-running-container.html).
HYPERPARAMETERS_FILE = "/opt/ml/input/config/hyperparameters.json"


@dataclass(frozen=True)
class HyperParameterLimits:
    """CreateTrainingJob's limits on ``HyperParameters``, as botocore's service model says."""

    count: int
    key: int
    value: int


@functools.cache
def hyperparameter_limits() -> HyperParameterLimits:
    from mlcompile.platforms.sagemaker.validate import service_model

    shape = service_model().operation_model("CreateTrainingJob").input_shape
    hp = shape.members["HyperParameters"]
    return HyperParameterLimits(
        count=int(hp.metadata["max"]),
        key=int(hp.key.metadata["max"]),
        value=int(hp.value.metadata["max"]),
    )


def hyperparameter_problems(values: dict[str, d.Expr]) -> list[str]:
    """What in ``values`` CreateTrainingJob would refuse: too many entries, a key or a literal
    value too long (a value read at run time is checked by SageMaker when the job starts)."""
    limits = hyperparameter_limits()
    out = []
    if len(values) > limits.count:
        out.append(
            f"{len(values)} hyperparameters; a SageMaker training job takes at most {limits.count}"
        )
    for key, value in values.items():
        if len(key) > limits.key:
            out.append(
                f"hyperparameter name {key[:40]!r}... is {len(key)} characters; at most"
                f" {limits.key}"
            )
        if isinstance(value, str) and len(value) > limits.value:
            out.append(
                f"hyperparameter {key!r} is {len(value)} characters; a value takes at most"
                f" {limits.value}"
            )
    return out


@functools.cache
def registrable_instances(member: str) -> frozenset[str]:
    """The instance types CreateModelPackage's InferenceSpecification takes in ``member``
    (SupportedRealtimeInferenceInstanceTypes or SupportedTransformInstanceTypes)."""
    from mlcompile.platforms.sagemaker.validate import service_model

    shape = service_model().operation_model("CreateModelPackage").input_shape
    listed = shape.members["InferenceSpecification"].members[member]
    return frozenset(listed.member.enum)


#: register_model's option -> the InferenceSpecification member holding it.
INSTANCE_LISTS = {
    "inference_instances": "SupportedRealtimeInferenceInstanceTypes",
    "transform_instances": "SupportedTransformInstanceTypes",
}
