# class: credential-shape
# command: check {case}
# exit: 2
# expect: MLC202 {case}:10
from mlcompile import pipeline, step


@step(
    env={
        "OPENAI": "sk-proj-Zx8kQ2mN4pL7vB9cR1tY5wE3aS6dF0gH",
    },
)
def call(n: int) -> int:
    return n


@pipeline
def flow():
    call(n=1)
