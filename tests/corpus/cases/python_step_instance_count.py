# class: option-line
# command: check {case} -t {targets}/sagemaker-dev.yaml
# exit: 2
# expect: MLC207 {case}:15
from mlcompile import pipeline, step


@step
def prepare(n: int) -> int:
    return n


@pipeline
def flow(count: int = 2):
    prepare(n=1).with_options(
        platform_options={"sagemaker": {"instance_count": count}}
    )
