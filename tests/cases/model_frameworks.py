"""Models of every framework the platforms serve, saved with Model.save in their own formats:
a scikit-learn tree, an XGBoost Booster and an XGBoost classifier of its scikit-learn API. The
tree is registered; the Booster registered, deployed and scored; the classifier, which nothing
registers, scored by the framework batch_predict names. The report reads every prediction
back. (Each scoring step imports its framework, the run's main cost, so there are two.)"""

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
def prepare(rows: int, data: Output[Dataset], features: Output[Dataset]) -> None:
    """A small CSV with a header, two features and a label the features decide; and the
    features alone, to score (a registered model's scoring knows no columns to leave out)."""
    values = [(i, (i * 7) % 5) for i in range(rows)]
    with open(data.path, "w") as f:
        f.write("a,b,label\n" + "".join(f"{a},{b},{int((a + b) % 4 < 2)}\n" for a, b in values))
    with open(features.path, "w") as f:
        f.write("a,b\n" + "".join(f"{a},{b}\n" for a, b in values))


@step(packages=["scikit-learn", "xgboost", "pandas"])
def fit(
    data: Input[Dataset],
    tree: Output[Model],
    booster: Output[Model],
    classifier: Output[Model],
) -> None:
    """A scikit-learn tree; XGBoost's own training API (a Booster answering with
    probabilities); XGBoost's scikit-learn API (a classifier answering with labels). All on
    named columns, so a label column in the scored data is left out."""
    import pandas as pd
    import xgboost
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.read_csv(data.path)
    features, label = frame[["a", "b"]], frame["label"]
    tree.save(DecisionTreeClassifier(max_depth=3, random_state=0).fit(features, label))
    params = {"objective": "binary:logistic", "max_depth": 2, "nthread": 1, "seed": 0}
    matrix = xgboost.DMatrix(features, label=label)
    booster.save(xgboost.train(params, matrix, num_boost_round=5))
    fitted = xgboost.XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1, random_state=0)
    classifier.save(fitted.fit(features, label))


@step
def report(booster: Input[Dataset], classifier: Input[Dataset]) -> str:
    """Every prediction, rounded, in row order: from a file or a folder of files, as CSV under
    a header or JSON lines, whichever the platform wrote."""
    import json
    import os

    def read(path: str) -> list:
        if os.path.isdir(path):
            names = sorted(
                os.path.join(root, name)
                for root, _, files in os.walk(path)
                for name in files
                if not name.startswith(".")
            )
        else:
            names = [path]
        found = []
        for name in names:
            with open(name) as f:
                for line in f.read().splitlines():
                    if not line.strip() or line == "prediction":
                        continue
                    value = json.loads(line)["prediction"] if line.startswith("{") else line
                    found.append(round(float(value), 5))
        return found

    parts = [read(p.path) for p in (booster, classifier)]
    return " | ".join(",".join(f"{v:g}" for v in part) for part in parts)


@pipeline
def model_frameworks(rows: int = 24) -> dict:
    """Fit, register, deploy, score; report what each model predicted."""
    prepared = prepare(rows=rows)
    models = fit(data=prepared.data)
    register_model(models.tree, name="tree", framework="sklearn")
    boosted = register_model(models.booster, name="booster", framework="xgboost")
    deploy_model(boosted.registered_model, endpoint="booster")
    features = prepared.features
    scored = report(
        booster=batch_predict(boosted.registered_model, features).predictions,
        # Unregistered, and scored on the data with its label: the model leaves that out.
        classifier=batch_predict(models.classifier, prepared.data, framework="xgboost").predictions,
    )
    return {"predictions": scored.output}
