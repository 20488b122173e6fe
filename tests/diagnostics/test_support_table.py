"""The support table and the compilers agree: one small pipeline per row of the feature table,
checked and compiled for every platform. A row marked mapped or lowered must compile without
a refusal; a row marked refused must be refused with a located MLC401 naming the feature.

Where they disagree today, the disagreement is listed in KNOWN_DISAGREEMENTS (each one a bug
to fix): the test fails when a new one appears and when a listed one is fixed, so the list
stays exact.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlcompile import platforms
from mlcompile.errors import ValidationError
from mlcompile.ir.features import FEATURES, features_used
from mlcompile.loader import load
from tests.conftest import profile

PROFILES = {"kubeflow": "kubeflow-dev", "sagemaker": "sagemaker-dev", "vertex": "vertex-dev"}

STEPS = """
from mlcompile import *
from mlcompile import Input, Output


@step
def make(data: Output[Dataset]) -> None:
    data.path


@step
def train(data: Input[Dataset], model: Output[Model]) -> float:
    return 0.5


@step
def score(x: int) -> float:
    return 0.5


@step
def show(v: float) -> None:
    print(v)


@step
def total(values: list) -> float:
    return 0.5


@step
def status_report(status: RunStatus, note: str) -> None:
    print(status.state, note)


@step
def naming() -> str:
    return "warehouse-token"


@step
def listing() -> list:
    return [1, 2]


@step
def evaluate(model: Input[Model], metrics: Output[Metrics]) -> None:
    metrics.path


@step(kind="training")
def fit(data: Input[Dataset], model: Output[Model]) -> None:
    model.path


@container_step(image="public.ecr.aws/docker/library/busybox:1.36")
def shell(x: int) -> Command:
    return Command(command=["echo", f"{x}"])


@container_step(image="public.ecr.aws/docker/library/busybox:1.36", kind="training")
def byo(data: Input[Dataset], model: Output[Model]) -> Command:
    return Command(args=[data.path, model.path])


@container_step(image="public.ecr.aws/docker/library/busybox:1.36")
def counter(n: Output[int]) -> Command:
    return Command(command=["sh", "-c", f"echo 3 > {n.path}"])


@pipeline
def inner(x: int = 1) -> None:
    score(x=x)
"""

#: One pipeline body per feature (parameters in the signature line, then the body).
CASES: dict[str, tuple[str, str]] = {
    "function-step": ("", "score(x=1)"),
    "container-step": ("", "shell(x=1)"),
    "container-outputs": ("", "score(x=counter().n)"),
    "training-step": ("", "fit(data=make().data)"),
    "hyperparameters": ("", "score(x=1).with_options(kind='training')"),
    "input-content-type": (
        "",
        "fit(data=make().data).with_options(content_types={'data': 'text/csv'})",
    ),
    "image-entrypoint": ("", "byo(data=make().data)"),
    "nested-pipeline": ("", "inner(x=2)"),
    "pipeline-outputs": ("", "return {'s': score(x=1)}"),
    "artifacts": ("", "train(data=make().data)"),
    "import-artifact": (
        "uri: str = 's3://data/rows.csv'",
        "train(data=import_artifact(uri).artifact)",
    ),
    "condition": ("", "s = score(x=1)\nwith when(s > 0.5):\n    score(x=2)"),
    "else-branch": (
        "",
        "s = score(x=1)\nwith when(s > 0.5):\n    score(x=2)\nwith otherwise():\n    score(x=3)",
    ),
    "compound-condition": (
        "",
        "s = score(x=1)\nwith when((s > 0.5) & (s < 0.9)):\n    score(x=2)",
    ),
    "metric-condition": (
        "",
        "t = train(data=make().data)\ne = evaluate(model=t.model)\n"
        "with when(e.metrics['auc'] > 0.8):\n    score(x=2)",
    ),
    "fan-out-literal": ("", "with for_each([1, 2]) as i:\n    score(x=i)"),
    "fan-out-parameter": ("xs: list = [1, 2]", "with for_each(xs) as i:\n    score(x=i)"),
    "fan-out-runtime": ("", "with for_each(listing()) as i:\n    score(x=i)"),
    "parallelism-limit": ("", "with for_each([1, 2], parallelism=1) as i:\n    score(x=i)"),
    "fan-in": ("", "with for_each([1, 2]) as i:\n    s = score(x=i)\ntotal(values=collect(s))"),
    "merge": (
        "",
        "s = score(x=1)\nwith when(s > 0.5):\n    a = score(x=2)\nwith otherwise():\n"
        "    b = score(x=3)\nshow(v=merge(a, b))",
    ),
    "final-step": ("", "score(x=1)\nfinal(score(x=2))"),
    "final-status": ("", "score(x=1)\nfinal(status_report(note='x'))"),
    "fail": ("", "s = score(x=1)\nwith when(s < 0.5):\n    fail('too low')"),
    "register-model": ("", "register_model(train(data=make().data).model, name='churn')"),
    "model-instance-lists": (
        "",
        "register_model(train(data=make().data).model, name='churn',"
        " inference_instances=['ml.m5.large'], transform_instances=['ml.m5.large'])",
    ),
    "model-approval-parameter": (
        "approval: str = 'Approved'",
        "register_model(train(data=make().data).model, name='churn', approval=approval)",
    ),
    "serving-image-parameter": (
        "image: str = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve:1'",
        "register_model(train(data=make().data).model, name='churn', serving_image=image)",
    ),
    "deploy-model": (
        "",
        "r = register_model(train(data=make().data).model, name='churn')\n"
        "deploy_model(r.registered_model, endpoint='churn')",
    ),
    "batch-predict": (
        "",
        "d = make().data\nbatch_predict(train(data=d).model, d)",
    ),
    "model-xgboost": (
        "",
        "register_model(train(data=make().data).model, name='churn', framework='xgboost')",
    ),
    "model-lightgbm": (
        "",
        "register_model(train(data=make().data).model, name='churn', framework='lightgbm')",
    ),
    "model-pytorch": (
        "",
        "d = make().data\nbatch_predict(train(data=d).model, d, framework='pytorch')",
    ),
    "deploy-pytorch": (
        "",
        "r = register_model(train(data=make().data).model, name='churn', framework='pytorch')\n"
        "deploy_model(r.registered_model, endpoint='churn')",
    ),
    "monitoring": (
        "",
        "r = register_model(train(data=make().data).model, name='churn')\n"
        "deploy_model(r.registered_model, endpoint='churn', monitor=Monitor({'x': 'number'}))",
    ),
    "drift-retrain": (
        "n: int = 1",
        "score(x=n)\nr = register_model(train(data=make().data).model, name='churn')\n"
        "deploy_model(\n    r.registered_model,\n    endpoint='churn',\n"
        "    monitor=Monitor({'x': 'number'}, on_drift=Retrain(params={'n': 2})),\n)",
    ),
    "drift-alert": (
        "",
        "r = register_model(train(data=make().data).model, name='churn')\n"
        "deploy_model(\n    r.registered_model,\n    endpoint='churn',\n"
        "    monitor=Monitor({'x': 'number'}, on_drift=Alert()),\n)",
    ),
    "retries": ("", "score(x=1).with_options(retries=2)"),
    "retry-backoff": (
        "",
        "score(x=1).with_options(retries=Retry(count=2, backoff='30s', factor=2))",
    ),
    "cache-disabled": ("", "score(x=1).with_options(cache=False)"),
    "timeout": ("", "score(x=1).with_options(timeout='1h')"),
    "resources": ("", "score(x=1).with_options(resources=Resources(cpu=2, memory='4Gi'))"),
    "gpu": ("", "score(x=1).with_options(resources=Resources(gpu=1, gpu_type='nvidia-tesla-t4'))"),
    "env": ("", "score(x=1).with_options(env={'LOG_LEVEL': 'info'})"),
    "env-parameter": ("mode: str = 'fast'", "score(x=1).with_options(env={'MODE': mode})"),
    "container-env-parameter": (
        "mode: str = 'fast'",
        "shell(x=1).with_options(env={'MODE': mode})",
    ),
    "secrets": ("", "score(x=1).with_options(secrets=[Secret('warehouse-token')])"),
    "secret-name-parameter": (
        "name: str = 'warehouse-token'",
        "score(x=1).with_options(secrets=[Secret(name, env='TOKEN')])",
    ),
    "container-secrets": ("", "shell(x=1).with_options(secrets=[Secret('token', env='T')])"),
    "secret-name-output": (
        "",
        "n = naming()\nscore(x=1).with_options(secrets=[Secret(n.output, env='TOKEN')])",
    ),
    "packages": ("", "score(x=1).with_options(packages=['pandas'])"),
    "schedule": ("", "score(x=1)"),
    "after": ("", "a = score(x=1)\nscore(x=2).after(a)"),
    "platform-options": (
        "",
        "score(x=1).with_options(platform_options={'kubeflow': {'node_selector': {'p': 'x'}}})",
    ),
    "image-parameter": (
        "image: str = 'alpine:3.20'",
        "shell(x=1).with_options(image=image)",
    ),
    "platform-option-parameter": (
        "instance: str = 'ml.m5.large'",
        "score(x=1).with_options(platform_options={'sagemaker': {'instance_type': instance}})",
    ),
}

#: (feature, platform, what happens) where the compilers do not do what the table says.
KNOWN_DISAGREEMENTS: set[tuple[str, str, str]] = {
    # SageMaker needs the framework of a model that was never registered (issue 17).
    ("batch-predict", "sagemaker", "refused although the table says lowered"),
}


def _source(feature: str) -> str:
    params, body = CASES[feature]
    decorator = '@pipeline(schedule="0 3 * * *")' if feature == "schedule" else "@pipeline"
    return (
        textwrap.dedent(STEPS)
        + f"\n\n{decorator}\ndef flow({params}):\n"
        + textwrap.indent(body, "    ")
        + "\n"
    )


def test_every_row_has_a_case() -> None:
    assert sorted(CASES) == sorted(FEATURES)


def _outcome(feature: str, name: str, tmp_path: Path) -> str:
    path = tmp_path / f"case_{feature.replace('-', '_')}_{name}.py"
    path.write_text(_source(feature))
    try:
        pipeline = load(f"{path}:flow").build()
    except ValidationError as err:
        return f"invalid case: {err.diagnostics[0]}"
    assert feature in {u.feature for u in features_used(pipeline)}, f"{feature}: case misses it"
    chosen = profile(PROFILES[name])
    platform = platforms.get(name)
    status = platforms.support_of(platform, feature).status
    problems = [d for d in platform.check(pipeline, chosen) if d.severity == "error"]
    refused = [d for d in problems if d.code == "MLC401" and FEATURES[feature] in d.message]
    if status == "refused":
        return "ok" if refused else "compiled although the table says refused"
    if problems:
        return f"refused although the table says {status}: {problems[0].message}"
    platform.compile(pipeline, chosen)
    return "ok"


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_the_table_and_the_compiler_agree(name: str, tmp_path: Path) -> None:
    found = set()
    for feature in FEATURES:
        outcome = _outcome(feature, name, tmp_path)
        if outcome != "ok":
            found.add((feature, name, outcome.split(":")[0]))
    expected = {d for d in KNOWN_DISAGREEMENTS if d[1] == name}
    assert found == expected
