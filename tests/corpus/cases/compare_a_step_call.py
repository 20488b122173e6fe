# class: internal-names
# command: check {case}
# exit: 0
from mlcompile import pipeline, step, when


@step
def score(x: int) -> float:
    return 0.5


@pipeline
def flow():
    s = score(x=1)
    with when(s > 0.8):
        score(x=2)
