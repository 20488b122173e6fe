# class: timezone
# command: check {case}
# exit: 2
# expect: MLC120 {case}:13
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline(schedule="0 3 * * *", timezone="GMT+25")
def flow():
    train(n=1)
