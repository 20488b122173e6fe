"""Nested metrics, as the platforms' sample evaluation files write them: a dotted key is a path
into nested objects everywhere (SageMaker's JsonGet spelling), for conditions and for log_metric."""

import json

from mlcompile import Metrics, Output, pipeline, step, when


@step
def evaluate(metrics: Output[Metrics]) -> None:
    """Write the evaluation file by hand, nested, then add one more value through log_metric."""
    with open(metrics.path, "w") as f:
        json.dump({"regression_metrics": {"mse": {"value": 0.5}}}, f)
    metrics.log_metric("regression_metrics.r2.value", 0.8)


@step
def ship(note: str) -> str:
    """Stands in for a deployment."""
    return note


@pipeline
def nested_metrics(max_mse: float = 1.0) -> None:
    """Ship when the nested error is small and the nested score, logged by log_metric, is high."""
    scored = evaluate()
    small = scored.metrics["regression_metrics.mse.value"] <= max_mse
    with when(small), when(scored.metrics["regression_metrics.r2.value"] > 0.5):
        ship(note="good")
    with when(scored.metrics["regression_metrics.mse.value"] > max_mse):
        ship(note="bad")
