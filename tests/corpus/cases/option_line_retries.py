# class: option-line
# command: check {case}
# exit: 2
# expect: MLC203 {case}:11
from mlcompile import pipeline, step


@step(
    image="python:3.11-slim",
    cache=True,
    retries=-1,
)
def train(n: int) -> int:
    return n


@pipeline
def flow():
    train(n=1)
