# class: every-problem
# setup: write {tmp}/bad.yaml platform: sagemaker\ncloud: gcp\nenvironment: dev\nregion: eu-west-1\naccount: "111122223333"\n
# command: check {case} -t {tmp}/bad.yaml
# exit: 2
# expect: MLC101 {case}:17
# expect: MLC301 bad.yaml:2
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow():
    train(m=1)
