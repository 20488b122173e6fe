"""LightGBM models saved with Model.save in LightGBM's own text format: a classifier of its
scikit-learn API, registered, deployed and scored (it answers with labels, as its predict
does), and a Booster of its training API, registered. Kubeflow serves LightGBM (KServe's
lightgbm format); SageMaker and Vertex AI have no image that does, and refuse it."""

from mlcompile import (
    Dataset,
    Input,
    Model,
    Output,
    batch_predict,
    deploy_model,
    pipeline,
    register_model,
    step,
)


@step
def prepare(rows: int, data: Output[Dataset]) -> None:
    """A small CSV with a header: two features and a label the features decide."""
    values = [(i, (i * 7) % 5) for i in range(rows)]
    with open(data.path, "w") as f:
        f.write("a,b,label\n" + "".join(f"{a},{b},{int((a + b) % 4 < 2)}\n" for a, b in values))


@step(packages=["lightgbm", "pandas"])
def fit(data: Input[Dataset], classifier: Output[Model], booster: Output[Model]) -> None:
    """Both of LightGBM's APIs on named columns, with settings a few rows can fit."""
    import lightgbm
    import pandas as pd

    frame = pd.read_csv(data.path)
    features, label = frame[["a", "b"]], frame["label"]
    settings = {"min_child_samples": 2, "num_leaves": 4, "n_jobs": 1, "verbose": -1, "seed": 0}
    classifier.save(lightgbm.LGBMClassifier(n_estimators=5, **settings).fit(features, label))
    trained = lightgbm.train(
        {"objective": "binary", **settings}, lightgbm.Dataset(features, label=label), 5
    )
    booster.save(trained)


@step
def report(labels: Input[Dataset]) -> str:
    """Every prediction in row order (a CSV file or a folder of them)."""
    import os

    def read(path: str) -> str:
        names = (
            sorted(os.path.join(path, n) for n in os.listdir(path) if not n.startswith("."))
            if os.path.isdir(path)
            else [path]
        )
        lines = []
        for name in names:
            with open(name) as f:
                lines += f.read().splitlines()
        return ",".join(f"{round(float(v), 5):g}" for v in lines if v and v != "prediction")

    return read(labels.path)


@pipeline
def model_lightgbm(rows: int = 24) -> dict:
    """Fit both, register both, deploy and score the classifier."""
    data = prepare(rows=rows).data
    models = fit(data=data)
    registered = register_model(models.classifier, name="lgbm", framework="lightgbm")
    deploy_model(registered.registered_model, endpoint="lgbm")
    register_model(models.booster, name="lgbm-booster", framework="lightgbm")
    scored = report(labels=batch_predict(registered.registered_model, data).predictions)
    return {"predictions": scored.output}
