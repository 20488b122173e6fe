# class: unused-parameter
# command: check {case}
# exit: 0
# expect: MLC121 {case}:13
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow(n: int = 1, learning_rate: float = 0.1):
    train(n=n)
