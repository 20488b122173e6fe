# class: compiler-crash
# command: compile {case} -t {targets}/vertex-dev.yaml --out {tmp}/out
# exit: 2
# expect: MLC401 {case}:13
from mlcompile import pipeline, step


@step
def one(x: int) -> int:
    return x


@pipeline
def flow(p: int = 1):
    one(x=p)
    return {"chosen": p}
