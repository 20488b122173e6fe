# class: timezone
# command: check {case}
# exit: 2
# expect: MLC120 {case}:16
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline(
    name="nightly",
    schedule="0 3 * * *",
    timezone="Europe/Londn",
)
def flow():
    train(n=1)
