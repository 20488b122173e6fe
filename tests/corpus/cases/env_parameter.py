# class: runtime-value-in-option
# command: check {case}
# exit: 2
# expect: MLC207 {case}:16
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow(modes: list = ["fast"]):
    train(n=1).with_options(
        env={"MODE": modes},
    )
