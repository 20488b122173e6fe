# class: reserved-name
# command: check {case}
# exit: 2
# expect: MLC122 {case}:8
from mlcompile import Model, Output, pipeline, step


@step
def train(output: Output[Model], n: int) -> int:
    return n


@pipeline
def flow():
    train(n=1)
