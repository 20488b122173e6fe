# class: metrics-hint
# command: check {case}
# exit: 2
# expect: MLC106 {case}:16
from mlcompile import Metrics, Output, pipeline, step, when


@step
def evaluate(metrics: Output[Metrics]) -> None:
    metrics.log_metric("auc", 0.9)


@pipeline
def flow():
    ev = evaluate()
    with when(ev.metrics):
        evaluate()
