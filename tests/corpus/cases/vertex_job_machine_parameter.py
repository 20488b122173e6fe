# class: runtime-value-in-option
# command: check {case} -t {targets}/vertex-dev.yaml
# exit: 2
# expect: MLC208 {case}:15
from mlcompile import pipeline, step


@step
def train(n: int) -> int:
    return n


@pipeline
def flow(machine: str = "n1-standard-8"):
    train(n=1).with_options(
        platform_options={"vertex": {"machine_type": machine}}
    )
