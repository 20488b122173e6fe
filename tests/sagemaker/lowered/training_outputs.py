"""A training step with more than its model: a Metrics artifact, a data set, and returned
values. The pipeline branches on a metric and on a returned number (the training job's
metrics); later steps read the data set, the metrics and every returned value exactly (from
the job's output.tar.gz)."""

import json
import pickle
from typing import NamedTuple

from mlcompile import Dataset, Input, Metrics, Model, Output, fail, pipeline, step, when


class Fitted(NamedTuple):
    rows: int
    loss: float
    label: str
    classes: list


@step
def make(data: Output[Dataset]) -> None:
    """Rows of two features and a label."""
    with open(data.path, "w") as f:
        f.write("\n".join(f"{i},{i % 3},{i % 2}" for i in range(20)))


@step(kind="training")
def fit(
    data: Input[Dataset], model: Output[Model], metrics: Output[Metrics], report: Output[Dataset]
) -> Fitted:
    """Fit a stand-in model; report its quality three ways."""
    with open(data.path) as f:
        rows = [line.split(",") for line in f.read().splitlines()]
    with open(model.path, "wb") as f:
        pickle.dump({"rows": len(rows)}, f)
    metrics.log_metric("auc", 0.8125)
    metrics.log_metric("f1-score", 0.7)
    with open(report.path, "w") as f:
        json.dump({"rows": len(rows)}, f)
    return Fitted(len(rows), 0.123456789, 'fitted "well"', sorted({r[-1] for r in rows}))


@step
def check(
    model: Input[Model],
    metrics: Input[Metrics],
    report: Input[Dataset],
    rows: int,
    loss: float,
    label: str,
    classes: list,
    auc: float,
) -> str:
    """Read everything the training step gave."""
    with open(model.path, "rb") as f:
        seen = pickle.load(f)["rows"]
    with open(report.path) as f:
        reported = json.load(f)["rows"]
    return json.dumps(
        {
            "model": seen,
            "report": reported,
            "metrics": metrics.read(),
            "rows": rows,
            "loss": loss,
            "label": label,
            "classes": classes,
            "auc": auc,
        },
        sort_keys=True,
    )


@pipeline
def training_outputs(min_auc: float = 0.8) -> dict:
    """Fit, read it all, and fail on a low metric or too few rows (both read by a condition)."""
    fitted = fit(data=make().data)
    checked = check(
        model=fitted.model,
        metrics=fitted.metrics,
        report=fitted.report,
        rows=fitted.outputs["rows"],
        loss=fitted.outputs["loss"],
        label=fitted.outputs["label"],
        classes=fitted.outputs["classes"],
        auc=fitted.metrics["auc"],
    )
    with when((fitted.metrics["auc"] < min_auc) | (fitted.outputs["rows"] <= 10)):
        fail(f"auc {fitted.metrics['auc']} is below {min_auc}")
    return {"checked": checked.output, "loss": fitted.outputs["loss"]}
