# class: reserved-name
# command: check {case}
# exit: 2
# expect: MLC122 {case}:15
from typing import NamedTuple

from mlcompile import pipeline, step


class Result(NamedTuple):
    after: int
    score: float


@step
def train(n: int) -> Result:
    return Result(1, 0.5)


@pipeline
def flow():
    train(n=1)
