"""Where a platform's run of the compiled spec differs from the embedded run, and why.

The equivalence tests compare the embedded runner with every emulator; a difference they allow
is listed here, and the README shows this table (a test keeps the two equal)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Divergence:
    platforms: tuple[str, ...]
    what: str
    why: str
    #: The name (a regular expression) of a step the platform runs and the embedded run has
    #: not, when that is the difference: the equivalence tests allow exactly these.
    extra_step: str | None = None


DIVERGENCES: tuple[Divergence, ...] = (
    Divergence(
        ("kubeflow", "vertex"),
        "step names are kebab case (`make-data` for `make_data`)",
        "KFP task names are DNS-1123 labels; the tests compare names with `-` read as `_`",
    ),
    Divergence(
        ("kubeflow", "vertex"),
        "one more task, `import-code`, runs before the steps",
        (
            "the importer of the pipeline's code bundle (`code/<sha256>.tar.gz` under the pipeline "
            "root), which every step runs from; the tests leave it out"
        ),
        extra_step=r"import-code",
    ),
    Divergence(
        ("vertex",),
        "built-ins run as sub-DAGs: `register-model/stage-model`, `register-model/model-upload`",
        (
            "model registration, deployment and batch prediction are GCPC components behind a "
            "staging step"
        ),
        extra_step=r"[a-z0-9-]+/[a-z0-9-]+",
    ),
    Divergence(
        ("kubeflow", "vertex"),
        "a condition on a metric first runs a task `<step>-<metric>-metric`",
        "KFP conditions compare parameters, not artifact metadata; the task reads the number"
        " from the step's Metrics artifact",
        extra_step=r"[a-z0-9-]+-metric",
    ),
    Divergence(
        ("kubeflow", "vertex", "sagemaker"),
        "a monitored `deploy_model` is followed by a step `<deploy>-baseline`",
        "it writes the monitor's baseline where the platform's monitor reads it (on SageMaker"
        " the built-in analyzer's job); the embedded run reads the baseline from its store",
        extra_step=r"[a-z0-9_-]+-baseline",
    ),
    Divergence(
        ("sagemaker",),
        "each `when()` is a step, `condition_<n>`, and `batch_predict` of a model is preceded"
        " by a step `<batch>-model`",
        "SageMaker Pipelines evaluates conditions in a ConditionStep and a transform job needs"
        " a SageMaker Model, which a Model step creates",
        extra_step=r"condition_\d+|[a-z0-9_-]+-model",
    ),
    Divergence(
        ("vertex",),
        'batch predictions are JSON lines, `{"prediction": ...}` per instance',
        "Vertex batch prediction reads and writes JSON lines; the embedded run, Kubeflow and"
        " SageMaker write a CSV column `prediction`",
    ),
    Divergence(
        ("sagemaker",),
        "pipelines with a loop over a run-time list or a `final()` step do not compile",
        "SageMaker Pipelines has neither (MLC401 says so at compile time)",
    ),
    Divergence(
        ("sagemaker",),
        "an `import_artifact` has no step: it is not in the run's steps",
        "SageMaker jobs read an S3 URI as a job input directly; nothing runs to import it",
    ),
    Divergence(
        ("kubeflow", "vertex", "sagemaker"),
        "imported cloud data is read from `<store>/buckets/<bucket>/<key>`, never the cloud",
        (
            "the run stands in for the platform's storage on this machine; a store holding only "
            "`buckets/` is accepted so the data can be put there before the first run"
        ),
    ),
    Divergence(
        ("sagemaker",),
        "a nested pipeline's steps are named `<outer>-<step>`, not `<outer>/<step>`",
        "SageMaker Pipelines has no nested pipelines: their steps are placed in the outer one",
    ),
    Divergence(
        ("sagemaker",),
        (
            "steps reading a `merge()` run as `<step>-if` / `<step>-else`; a name past 64 characters"
            " ends in a hash"
        ),
        (
            "SageMaker has no merge of branches, so the reader is placed in both; the manifest's "
            "`sagemaker.step_names` maps every IR step to its SageMaker steps"
        ),
    ),
    Divergence(
        ("sagemaker",),
        "a condition reading a training step's number compares a 32-bit float",
        (
            "it reads the job's final metric (`FinalMetricDataList`); steps get the exact value from"
            " `output.tar.gz`"
        ),
    ),
    Divergence(
        ("sagemaker",),
        (
            "a step reading a registered model gets the model's files; the embedded run gives the "
            "registry card"
        ),
        (
            "the RegisterModel step's model data (`InferenceSpecification.Containers[0]`) is what a "
            "job can download"
        ),
    ),
    Divergence(
        ("kubeflow", "vertex", "sagemaker"),
        "a training image that keeps its own entrypoint runs a local stand-in command",
        (
            "no image runs on this machine: `MLCOMPILE_LOCAL_ENTRYPOINTS` maps the image to the"
            " command that stands in for its entrypoint (the embedded run uses it too), given the"
            " arguments the platform would give the image"
        ),
    ),
    Divergence(
        ("sagemaker",),
        "a monitored endpoint's baselining step is skipped",
        (
            "it runs SageMaker's built-in Model Monitor analyzer image with its own entrypoint, "
            "which only SageMaker runs; no step reads its output"
        ),
    ),
    Divergence(
        ("sagemaker",),
        "step outputs are S3 prefixes, recorded as folder artifacts",
        "a processing output is a folder (`/opt/ml/processing/output/<name>`), not one file",
    ),
    Divergence(
        ("sagemaker",),
        "a container job of more than one instance (`instance_count`) runs once",
        "the interpreter gives each job one host; how an image divides work across SageMaker's"
        " hosts is the image's own, and the embedded run has no hosts",
    ),
)


def extra_step_allowed(platform: str, name: str) -> bool:
    """Whether a step the embedded run has not is one this table lists for ``platform``."""
    return any(
        platform in d.platforms and re.fullmatch(d.extra_step, name)
        for d in DIVERGENCES
        if d.extra_step
    )


def markdown() -> str:
    rows = ["| platform | what differs | why |", "| --- | --- | --- |"]
    rows += [f"| {', '.join(d.platforms)} | {d.what} | {d.why} |" for d in DIVERGENCES]
    return "\n".join(rows)
