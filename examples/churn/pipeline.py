"""Customer churn: validate, split, train, evaluate, gate on AUC, register, deploy, score a batch.

The data set is generated with a fixed seed, so the pipeline needs no download and every run
sees the same rows.
"""

from __future__ import annotations

from mlcompile import (
    Dataset,
    Input,
    Metrics,
    Model,
    Monitor,
    Output,
    Resources,
    Retrain,
    Retry,
    Secret,
    batch_predict,
    deploy_model,
    fail,
    otherwise,
    pipeline,
    register_model,
    step,
    when,
)

SKLEARN = ["scikit-learn>=1.4", "pandas>=2"]


@step(
    packages=SKLEARN,
    resources=Resources(cpu=1, memory="2Gi"),
    retries=Retry(count=2, backoff="10s", factor=2),
)
def make_data(rows: int, seed: int, data: Output[Dataset]) -> int:
    """Generate a tabular churn data set (tenure, charges, support calls -> churned)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, rows)
    monthly = rng.normal(70, 20, rows).round(2)
    calls = rng.poisson(2, rows)
    contract = rng.integers(0, 3, rows)
    logit = -1.5 - 0.04 * tenure + 0.02 * (monthly - 70) + 0.5 * calls - 0.6 * contract
    churned = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {
            "tenure": tenure,
            "monthly": monthly,
            "calls": calls,
            "contract": contract,
            "churned": churned,
        }
    )
    frame.to_csv(data.path, index=False)
    return int(frame.shape[0])


@step(packages=SKLEARN)
def split(
    data: Input[Dataset], train: Output[Dataset], test: Output[Dataset], test_fraction: float = 0.25
) -> None:
    """Check the schema, then split rows into train and test sets, stratified on the label."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(data.path)
    expected = {"tenure", "monthly", "calls", "contract", "churned"}
    missing = expected - set(frame.columns)
    if missing:
        raise ValueError(f"data set lacks columns {sorted(missing)}")
    left, right = train_test_split(
        frame, test_size=test_fraction, random_state=0, stratify=frame["churned"]
    )
    left.to_csv(train.path, index=False)
    right.to_csv(test.path, index=False)


@step(kind="training", packages=SKLEARN, resources=Resources(cpu=2, memory="4Gi"), timeout="30m")
def train(
    data: Input[Dataset], model: Output[Model], n_estimators: int = 100, max_depth: int = 4
) -> None:
    """Fit a gradient-boosted classifier."""
    import pickle

    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier

    frame = pd.read_csv(data.path)
    features = frame.drop(columns=["churned"])
    clf = GradientBoostingClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=0)
    clf.fit(features, frame["churned"])
    with open(model.path, "wb") as f:
        pickle.dump(clf, f)


@step(packages=SKLEARN, secrets=[Secret("churn-warehouse-token", env="WAREHOUSE_TOKEN")])
def evaluate(model: Input[Model], test: Input[Dataset], metrics: Output[Metrics]) -> float:
    """Score the held-out set; AUC goes into the Metrics artifact and is returned."""
    import os
    import pickle

    import pandas as pd
    from sklearn.metrics import accuracy_score, roc_auc_score

    # The token would authorise writing scores to the warehouse; only its presence is checked.
    has_token = bool(os.environ.get("WAREHOUSE_TOKEN"))
    with open(model.path, "rb") as f:
        clf = pickle.load(f)
    frame = pd.read_csv(test.path)
    features, label = frame.drop(columns=["churned"]), frame["churned"]
    auc = float(roc_auc_score(label, clf.predict_proba(features)[:, 1]))
    metrics.log_metric("auc", auc)
    metrics.log_metric("accuracy", float(accuracy_score(label, clf.predict(features))))
    metrics.log_metric("warehouse_token_present", float(has_token))
    return auc


@pipeline(schedule="0 3 * * 1")
def churn(
    rows: int = 2000,
    seed: int = 7,
    min_auc: float = 0.7,
    n_estimators: int = 100,
    approval: str = "PendingManualApproval",
) -> None:
    """Train a churn classifier weekly and ship it when it is good enough."""
    raw = make_data(rows=rows, seed=seed)
    parts = split(data=raw.data)
    fitted = train(data=parts.train, n_estimators=n_estimators)
    scored = evaluate(model=fitted.model, test=parts.test)
    with when(scored.metrics["auc"] >= min_auc):
        registered = register_model(
            fitted.model,
            name="churn",
            framework="sklearn",
            approval=approval,
            metrics=scored.metrics,
        )
        deploy_model(
            registered.registered_model,
            endpoint="churn",
            resources=Resources(cpu=1, memory="2Gi"),
            # Hourly, compare requests with the training data; on drift retrain on more, fresh data.
            monitor=Monitor(
                features={
                    "tenure": "number",
                    "monthly": "number",
                    "calls": "number",
                    "contract": "category",
                },
                thresholds={"psi": 0.2, "ks": 0.1},
                schedule="0 * * * *",
                on_drift=Retrain(
                    params={"rows": 4000, "seed": 8}, approval="PendingManualApproval"
                ),
            ),
        )
        batch_predict(fitted.model, parts.test)
    with otherwise():
        fail(f"AUC {scored.output} is below the threshold {min_auc}")
