# class: runtime-value-in-option
# command: check {case}
# exit: 2
# expect: MLC208 {case}:16
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow(instance: str = "ml.m5.xlarge"):
    train(n=1).with_options(
        platform_options={"sagemaker": {"instance_type": instance}},
    )
