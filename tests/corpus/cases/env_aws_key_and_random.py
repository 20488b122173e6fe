# class: credential-shape
# command: check {case}
# exit: 2
# expect: MLC202 {case}:10
# expect: MLC202 {case}:11
from mlcompile import pipeline, step


@step(env={
    "AWS_ID": "AKIAZ7QX4M2N8P5R3T6W",
    "OPAQUE": "q8Zr2Lm5Tn9Vb1Yc4Hd7Js0PaUeXiKo3Wf6Gs",
})
def call(n: int) -> int:
    return n


@pipeline
def flow():
    call(n=1)
