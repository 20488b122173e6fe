# class: option-line
# command: check {case}
# exit: 2
# expect: MLC201 {case}:12
from mlcompile import Resources, pipeline, step


@step(
    image="python:3.11-slim",
    resources=Resources(
        memory="4Gi",
        cpu="lots",
    ),
)
def train(n: int) -> int:
    return n


@pipeline
def flow():
    train(n=1)
