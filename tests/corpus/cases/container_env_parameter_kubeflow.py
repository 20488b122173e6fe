# class: runtime-value-in-option
# command: compile {case} -t {targets}/kubeflow-dev.yaml --out {tmp}/out
# exit: 2
# expect: MLC401 {case}:15
from mlcompile import Command, container_step, pipeline


@container_step(image="busybox:1.36")
def show() -> Command:
    return Command(command=["sh", "-c", "echo $MODE"])


@pipeline
def flow(mode: str = "fast"):
    show().with_options(env={"MODE": mode})
