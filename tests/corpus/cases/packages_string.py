# class: list-as-string
# command: check {case}
# exit: 2
# expect: MLC207 {case}:10
from mlcompile import pipeline, step


@step(
    image="python:3.11-slim",
    packages="scikit-learn>=1.4",
)
def train(n: int) -> int:
    return n


@pipeline
def flow():
    train(n=1)
