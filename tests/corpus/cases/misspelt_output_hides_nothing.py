# class: every-problem
# command: check {case}
# exit: 2
# expect: MLC109 {case}:30
# expect: MLC101 {case}:31
# expect: MLC207 {case}:32
from typing import NamedTuple

from mlcompile import pipeline, step


class Scores(NamedTuple):
    auc: float
    loss: float


@step
def train(n: int) -> Scores:
    return Scores(0.9, 0.1)


@step
def report(auc: float) -> None:
    print(auc)


@pipeline
def flow():
    t = train(n=1)
    report(auc=t.acu)
    report(acu=t.auc)
    report(auc=t.loss).with_options(cache="no")
