# class: timezone
# command: compile {case} -t {targets}/kubeflow-dev.yaml --out {tmp}/out
# exit: 2
# expect: MLC401 {case}:14
# unchanged: {tmp}
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline(schedule="0 3 1,15 * *", timezone="Asia/Kolkata")
def flow():
    train(n=1)
