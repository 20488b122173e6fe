"""Training as the platforms know it: a training step's input values as its hyperparameters, input
channels with a content type, a bring-your-own training image that keeps its own entrypoint,
and the instance types a registered model may be served and batch-transformed on."""

import json

from mlcompile import (
    Command,
    Dataset,
    Input,
    Model,
    Output,
    container_step,
    import_artifact,
    pipeline,
    register_model,
    step,
)

#: A training image in the account's registry whose entrypoint trains; locally a stand-in runs
#: in its place (MLCOMPILE_LOCAL_ENTRYPOINTS, see tests/cases/entrypoints/byo_train.py).
TRAINER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/byo-trainer:1.0"


@step
def prepare(rows: int, data: Output[Dataset]) -> None:
    """Write a small CSV of two columns."""
    with open(data.path, "w") as f:
        f.write("\n".join(f"{i},{i % 2}" for i in range(rows)) + "\n")


@step(kind="training", content_types={"data": "text/csv"}, packages=["scikit-learn"])
def fit(
    data: Input[Dataset],
    extra: Input[Dataset],
    model: Output[Model],
    depth: int = 2,
    rate: float = 0.1,
    label: str = "y",
    classes: list = (),  # type: ignore[assignment]
) -> float:
    """Fit a constant classifier; every hyperparameter arrives with its declared type."""
    import pickle

    from sklearn.dummy import DummyClassifier

    if not (isinstance(depth, int) and isinstance(rate, float) and isinstance(classes, list)):
        raise TypeError(f"hyperparameters arrived untyped: {depth!r} {rate!r} {classes!r}")
    with open(data.path) as f:
        rows = [[float(v) for v in line.split(",")] for line in f if line.strip()]
    with open(extra.path) as f:
        rows += [[float(v) for v in line.split(",")] for line in f if line.strip()]
    fitted = DummyClassifier(strategy="constant", constant=int(classes[-1]))
    fitted.fit(rows, [int(r[1]) for r in rows])
    with open(model.path, "wb") as f:
        pickle.dump(fitted, f)
    return rate * depth + len(classes) + len(rows) + len(label)


@container_step(image=TRAINER, kind="training", content_types={"data": "text/csv"})
def byo_fit(data: Input[Dataset], model: Output[Model], epochs: int = 2) -> Command:
    """The image's own entrypoint trains: no command, only arguments."""
    return Command(args=["--data", data.path, "--model", model.path, "--epochs", epochs])


@step
def score(model: Input[Model]) -> int:
    """Read what the training image wrote."""
    with open(model.path) as f:
        written = json.load(f)
    return int(written["rows"]) * int(written["epochs"])


@pipeline
def training_inputs(
    rows: int = 6,
    depth: int = 3,
    classes: list = [0, 1],  # noqa: B006 - a pipeline parameter's default, never mutated
    epochs: int = 4,
    extra_uri: str = "s3://mlcompile-example-data/extra.csv",
) -> dict:
    """Train with hyperparameters and typed channels, then on a bring-your-own image."""
    data = prepare(rows=rows)
    extra = import_artifact(extra_uri, content_type="text/csv")
    trained = fit(data=data.data, extra=extra.artifact, depth=depth, rate=0.25, classes=classes)
    register_model(
        trained.model,
        name="training-inputs",
        inference_instances=["ml.m5.large", "ml.c5.xlarge"],
        transform_instances=["ml.m5.large"],
    )
    byo = byo_fit(data=data.data, epochs=epochs)
    return {"fit": trained.output, "byo": score(model=byo.model).output}
