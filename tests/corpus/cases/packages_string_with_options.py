# class: list-as-string
# command: check {case}
# exit: 2
# expect: MLC207 {case}:17
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow():
    train(n=1).with_options(
        retries=2,
        packages="pandas",
    )
