# class: internal-names
# command: check {case}
# exit: 2
# expect: MLC207
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow(kind: str = "training"):
    train(n=1).with_options(kind=kind)
