# class: runtime-value-in-option
# command: check {case}
# exit: 2
# expect: MLC208 {case}:15
from mlcompile import Command, container_step, pipeline


@container_step(image="alpine:3.20")
def shell(x: int) -> Command:
    return Command(command=["echo", x])


@pipeline
def flow(image: int = 3):
    shell(x=1).with_options(image=image)
