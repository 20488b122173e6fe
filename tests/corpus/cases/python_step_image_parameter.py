# class: runtime-value-in-option
# command: check {case}
# exit: 2
# expect: MLC208 {case}:15
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow(image: str = "repo/python:3.11"):
    train(n=1).with_options(image=image)
