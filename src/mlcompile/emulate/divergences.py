"""Where a platform's run of the compiled spec differs from the embedded run, and why.

The equivalence tests compare the embedded runner with every emulator; a difference they allow
is listed here, and the README shows this table (a test keeps the two equal)."""

from __future__ import annotations

#: (platform, what differs, why)
DIVERGENCES: tuple[tuple[str, str, str], ...] = (
    (
        "kubeflow, vertex",
        "step names are kebab case (`make-data` for `make_data`)",
        "KFP task names are DNS-1123 labels; the tests compare names with `-` read as `_`",
    ),
    (
        "kubeflow, vertex",
        "one more task, `import-code`, runs before the steps",
        "the importer of the pipeline's code bundle (`code/<sha256>.tar.gz` under the pipeline"
        " root), which every step runs from; the tests leave it out",
    ),
    (
        "vertex",
        "built-ins run as sub-DAGs: `register-model/stage-model`, `register-model/model-upload`",
        "model registration, deployment and batch prediction are GCPC components behind a"
        " staging step",
    ),
    (
        "sagemaker",
        "pipelines with a loop over a run-time list or a `final()` step do not compile",
        "SageMaker Pipelines has neither (MLC401 says so at compile time)",
    ),
    (
        "sagemaker",
        "an `import_artifact` has no step: it is not in the run's steps",
        "SageMaker jobs read an S3 URI as a job input directly; nothing runs to import it",
    ),
    (
        "kubeflow, vertex, sagemaker",
        "imported cloud data is read from `<store>/buckets/<bucket>/<key>`, never the cloud",
        "the run stands in for the platform's storage on this machine; a store holding only"
        " `buckets/` is accepted so the data can be put there before the first run",
    ),
    (
        "sagemaker",
        "steps reading a `merge()` run as `<step>-if` / `<step>-else`; a name past 64 characters"
        " ends in a hash",
        "SageMaker has no merge of branches, so the reader is placed in both; the manifest's"
        " `sagemaker.step_names` maps every IR step to its SageMaker steps",
    ),
    (
        "sagemaker",
        "a condition reading a training step's number compares a 32-bit float",
        "it reads the job's final metric (`FinalMetricDataList`); steps get the exact value"
        " from `output.tar.gz`",
    ),
    (
        "sagemaker",
        "a step reading a registered model gets the model's files; the embedded run gives the"
        " registry card",
        "the RegisterModel step's model data (`InferenceSpecification.Containers[0]`) is what"
        " a job can download",
    ),
    (
        "sagemaker",
        "a monitored endpoint's baselining step is skipped",
        "it runs SageMaker's built-in Model Monitor analyzer image with its own entrypoint, which"
        " only SageMaker runs; no step reads its output",
    ),
    (
        "sagemaker",
        "step outputs are S3 prefixes, recorded as folder artifacts",
        "a processing output is a folder (`/opt/ml/processing/output/<name>`), not one file",
    ),
)


def markdown() -> str:
    rows = ["| platform | what differs | why |", "| --- | --- | --- |"]
    rows += [f"| {p} | {what} | {why} |" for p, what, why in DIVERGENCES]
    return "\n".join(rows)
