# class: metric-key
# command: check {case}
# exit: 2
# expect: MLC106 {case}:18
from mlcompile import Metrics, Output, pipeline, step, when


@step
def evaluate(metrics: Output[Metrics]) -> None:
    metrics.log_metric("mse", 0.5)


@pipeline
def flow() -> None:
    scored = evaluate()
    with when(scored.metrics["mse"] < 1):
        evaluate()
    with when(scored.metrics["regression_metrics..mse"] < 1):
        evaluate()
