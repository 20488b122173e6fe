# class: bool-as-string
# command: check {case}
# exit: 2
# expect: MLC207 {case}:9
from mlcompile import pipeline, step


@step(
    cache="false",
)
def train(n: int) -> int:
    return n


@pipeline
def flow():
    train(n=1)
