"""Batch scoring of a model nothing registers: batch_predict says the framework, which picks the
serving image (as register_model's framework does)."""

import os
import pickle

from mlcompile import Dataset, Input, Model, Output, batch_predict, pipeline, step

SKLEARN = ["scikit-learn>=1.4", "pandas>=2"]


@step(packages=SKLEARN)
def make(data: Output[Dataset]) -> None:
    """Two features and a label."""
    with open(data.path, "w") as f:
        f.write("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(12)))


@step(kind="training", packages=SKLEARN)
def fit(data: Input[Dataset], model: Output[Model]) -> None:
    """A tree on the two features (named, so scoring drops the label column)."""
    import pandas as pd
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.read_csv(data.path)
    clf = DecisionTreeClassifier(random_state=0).fit(frame[["a", "b"]], frame["label"])
    with open(model.path, "wb") as f:
        pickle.dump(clf, f)


@step
def count(predictions: Input[Dataset]) -> int:
    """How many predictions came back (a file here, a folder of files on SageMaker)."""
    path = predictions.path
    files = (
        [os.path.join(path, n) for n in sorted(os.listdir(path))] if os.path.isdir(path) else [path]
    )
    lines = []
    for name in files:
        with open(name) as f:
            lines += [line for line in f.read().splitlines() if line.strip()]
    return len([line for line in lines if line != "prediction"])


@pipeline
def batch_predict_framework() -> dict:
    """Fit, then score the training rows with the scikit-learn serving image."""
    data = make().data
    scored = batch_predict(fit(data=data).model, data, framework="sklearn")
    return {"rows": count(predictions=scored.predictions).output}
