# class: internal-names
# command: check {case}
# exit: 2
# expect: MLC117
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow():
    a = train(n=1)
    train(n=2).after(a.output)
