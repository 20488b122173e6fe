# class: runtime-value-in-option
# command: check {case} -t {targets}/sagemaker-dev.yaml
# exit: 2
# expect: MLC208 {case}:15
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow(size: int = 50):
    train(n=1).with_options(
        platform_options={"sagemaker": {"volume_size_gb": size}},
    )
