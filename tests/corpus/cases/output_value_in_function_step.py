# class: annotation
# command: check {case}
# exit: 2
# expect: MLC108 {case}:8
from mlcompile import Output, pipeline, step


@step
def count(rows: Output[int]) -> None:
    pass


@pipeline
def flow() -> None:
    count()
