"""Retrain against a champion: a nested data-preparation pipeline, a container step, a secret
named by a parameter, and a branch whose outcome is merged into one value downstream."""

from mlcompile import (
    Command,
    Dataset,
    Input,
    Metrics,
    Model,
    Output,
    Secret,
    container_step,
    merge,
    otherwise,
    pipeline,
    register_model,
    step,
    when,
)

SKLEARN = ["scikit-learn>=1.4"]

PROFILE_SCRIPT = """
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))
json.dump({"rows": float(len(rows)), "columns": float(len(rows[0]) if rows else 0)}, open(sys.argv[2], "w"))
"""


@step(packages=SKLEARN)
def make_data(rows: int, seed: int, data: Output[Dataset]) -> None:
    """A fixed synthetic binary classification set, label in the last column."""
    import numpy as np
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=rows, n_features=6, random_state=seed)
    np.savetxt(data.path, np.column_stack([x, y]), delimiter=",")


@step(packages=SKLEARN)
def split(data: Input[Dataset], train: Output[Dataset], test: Output[Dataset]) -> None:
    """Hold out a quarter of the rows."""
    import numpy as np

    table = np.loadtxt(data.path, delimiter=",")
    cut = int(len(table) * 0.75)
    np.savetxt(train.path, table[:cut], delimiter=",")
    np.savetxt(test.path, table[cut:], delimiter=",")


@pipeline
def prepare(rows: int = 800, seed: int = 5) -> dict:
    """Make and split the data; used as one step of the retraining pipeline."""
    raw = make_data(rows=rows, seed=seed)
    parts = split(data=raw.data)
    return {"train": parts.train, "test": parts.test}


@container_step(image="public.ecr.aws/docker/library/python:3.11-slim")
def profile_data(data: Input[Dataset], summary: Output[Metrics]) -> Command:
    """Count rows and columns with a plain Python container."""
    return Command(command=["python3", "-c", PROFILE_SCRIPT], args=[data.path, summary.path])


@step(kind="training", packages=SKLEARN)
def train(data: Input[Dataset], model: Output[Model]) -> None:
    """Fit a random forest; the warehouse token would let it log to the warehouse."""
    import os
    import pickle

    import numpy as np
    from sklearn.ensemble import RandomForestClassifier

    os.environ.get("WAREHOUSE_TOKEN")
    table = np.loadtxt(data.path, delimiter=",")
    clf = RandomForestClassifier(n_estimators=50, random_state=0).fit(table[:, :-1], table[:, -1])
    with open(model.path, "wb") as f:
        pickle.dump(clf, f)


@step(packages=SKLEARN)
def evaluate(model: Input[Model], test: Input[Dataset], metrics: Output[Metrics]) -> float:
    """AUC on the held-out rows."""
    import pickle

    import numpy as np
    from sklearn.metrics import roc_auc_score

    table = np.loadtxt(test.path, delimiter=",")
    with open(model.path, "rb") as f:
        clf = pickle.load(f)
    auc = float(roc_auc_score(table[:, -1], clf.predict_proba(table[:, :-1])[:, 1]))
    metrics.log_metric("auc", auc)
    return auc


@step
def decide(decision: str, auc: float) -> str:
    """Record what happened to the candidate."""
    return f"{decision} (auc={auc:.3f})"


@step
def announce(message: str) -> str:
    """Print the outcome, whichever branch produced it."""
    print(message)
    return message


@pipeline
def retrain(
    rows: int = 800,
    seed: int = 5,
    champion_auc: float = 0.8,
    warehouse_secret: str = "warehouse-token",
    approval: str = "PendingManualApproval",
) -> dict:
    """Retrain, compare with the champion's AUC, and promote the candidate only if it wins."""
    prepared = prepare(rows=rows, seed=seed)
    profile_data(data=prepared.train)
    candidate = train(data=prepared.train).with_options(
        secrets=[Secret(name=warehouse_secret, env="WAREHOUSE_TOKEN")]
    )
    scored = evaluate(model=candidate.model, test=prepared.test)
    with when(scored.metrics["auc"] > champion_auc):
        register_model(
            candidate.model, name="churn-retrain", approval=approval, metrics=scored.metrics
        )
        promoted = decide(decision="promoted", auc=scored.output)
    with otherwise():
        kept = decide(decision="kept the champion", auc=scored.output)
    outcome = merge(promoted.output, kept.output)
    announce(message=outcome)
    return {"outcome": outcome}
