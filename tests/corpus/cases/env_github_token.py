# class: credential-shape
# command: check {case}
# exit: 2
# expect: MLC202 {case}:16
from mlcompile import pipeline, step


@step
def call(n: int) -> int:
    return n


@pipeline
def flow():
    call(n=1).with_options(
        env={"GH": "ghp_4fKx9Lm2Qw8Zr5Tn1Vb7Yc3Hd6Js0PaUeXi"},
    )
