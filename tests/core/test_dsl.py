"""Every DSL feature builds into the IR it should."""

from __future__ import annotations

from pathlib import Path

from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import scoped_tasks, tasks_by_name

from .helpers import build

STEPS = """
@step
def produce(n: int = 3) -> int:
    return n

@step
def consume(value: int, flag: bool = False, name: str = "x", ratio: float = 0.5,
            items: list = [], conf: dict = {}) -> float:
    return 1.0

@step
def make(data: Output[Dataset], model: Output[Model], metrics: Output[Metrics], art: Output[Artifact]) -> None:
    pass

@step
def use(data: Input[Dataset], model: Input[Model]) -> str:
    return ""
"""


def test_typed_parameters_artifacts_and_returns(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        STEPS
        + """
@pipeline
def flow(n: int = 3, ratio: float = 0.25, name: str = "a", flag: bool = True, items: list = [1], conf: dict = {"k": 1}):
    a = produce(n=n)
    consume(value=a.output, flag=flag, name=name, ratio=ratio, items=items, conf=conf)
    m = make()
    use(data=m.data, model=m.model)
""",
    )
    assert [(x.name, x.type, x.default) for x in p.parameters] == [
        ("n", "int", 3),
        ("ratio", "float", 0.25),
        ("name", "str", "a"),
        ("flag", "bool", True),
        ("items", "list", [1]),
        ("conf", "dict", {"k": 1}),
    ]
    make = p.components["make"]
    assert [(o.name, o.type) for o in make.outputs] == [
        ("data", "Dataset"),
        ("model", "Model"),
        ("metrics", "Metrics"),
        ("art", "Artifact"),
    ]
    assert p.components["produce"].outputs == (ir.Port(name="output", type="int"),)
    assert p.components["consume"].input("ratio") == ir.Port(
        name="ratio", type="float", default=0.5, has_default=True
    )
    tasks = tasks_by_name(p)
    assert tasks["consume"].task.inputs["value"] == ir.OutputRef(task="produce", output="output")
    assert tasks["use"].task.inputs["data"] == ir.OutputRef(task="make", output="data")
    assert p.components["produce"].function is not None
    assert p.components["produce"].function.file.endswith(".py")
    assert p.sources[p.components["produce"].function.file].imports == ()
    assert all(t.task.location.line > 0 for t in scoped_tasks(p))


def test_step_options_normalised(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        """
@step(image="python:3.12-slim", packages=["pandas"], resources=Resources(cpu="500m", memory="1.5Gi", gpu=2, gpu_type="nvidia-tesla-t4", disk="20G"),
      retries=Retry(count=3, backoff="30s", factor=2, max_backoff="10m"), cache=False, timeout="1h30m",
      env={"MODE": "fast"}, secrets=[Secret("db-password")], display_name="Train it", kind="training",
      platform_options={"sagemaker": {"instance_type": "ml.g4dn.xlarge"}})
def train() -> None:
    pass

@pipeline
def flow():
    train()
""",
    )
    o = tasks_by_name(p)["train"].task.options
    assert o.image == "python:3.12-slim" and o.packages == ("pandas",)
    assert o.resources == ir.Resources(
        cpu=0.5,
        memory_bytes=int(1.5 * 2**30),
        gpu=2,
        gpu_type="nvidia-tesla-t4",
        disk_bytes=20 * 10**9,
    )
    assert o.retry == ir.Retry(
        count=3, backoff_seconds=30, backoff_factor=2.0, max_backoff_seconds=600
    )
    assert not o.cache and o.timeout_seconds == 5400 and o.env == {"MODE": "fast"}
    assert o.secrets == (ir.SecretRef(name=ir.Literal(value="db-password"), env="DB_PASSWORD"),)
    assert o.display_name == "Train it" and o.role == "training"
    assert o.platform_options == {"sagemaker": {"instance_type": "ml.g4dn.xlarge"}}


def test_per_call_options_and_secret_named_by_parameter(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        """
@step(retries=1)
def work() -> None:
    pass

@pipeline
def flow(secret_name: str = "token"):
    a = work()
    b = work().with_options(retries=4, name="second", secrets=[Secret(name=secret_name, env="TOKEN")])
    b.after(a)
""",
    )
    tasks = tasks_by_name(p)
    assert tasks["work"].task.options.retry.count == 1
    second = tasks["second"].task
    assert second.options.retry.count == 4 and second.after == ("work",)
    assert second.options.secrets == (
        ir.SecretRef(name=ir.ParamRef(name="secret_name"), env="TOKEN"),
    )


def test_container_step_placeholders(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        """
@container_step(image="alpine:3.20")
def count(data: Input[Dataset], top: int, out: Output[Metrics]) -> Command:
    return Command(command=["sh", "-c"], args=["wc -l", data.path, f"--top={top}", out.path])

@step
def make(data: Output[Dataset]) -> None:
    pass

@pipeline
def flow(top: int = 5):
    count(data=make().data, top=top)
""",
    )
    spec = p.components["count"].container
    assert spec is not None and spec.image == "alpine:3.20"
    assert spec.args == (
        ("wc -l",),
        (ir.Placeholder(kind="input_path", name="data"),),
        ("--top=", ir.Placeholder(kind="input_value", name="top")),
        (ir.Placeholder(kind="output_path", name="out"),),
    )
    assert p.components["count"].kind == "container"


def test_condition_with_else_and_compound_and_metric(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        """
@step
def evaluate(metrics: Output[Metrics]) -> float:
    return 1.0

@step
def act(x: str) -> None:
    pass

@pipeline
def flow(threshold: float = 0.5, go: bool = True):
    e = evaluate()
    with when((e.metrics["auc"] >= threshold) & ~(e.output < 0.1) | (go == True)):
        act(x="yes")
    with otherwise():
        act(x="no")
""",
    )
    (cond,) = [n for n in p.body if isinstance(n, ir.Condition)]
    assert cond.otherwise is not None and len(cond.then) == 1 and len(cond.otherwise) == 1
    expr = cond.condition
    assert isinstance(expr, ir.AnyOf)
    first = expr.operands[0]
    assert isinstance(first, ir.AllOf)
    metric = first.operands[0]
    assert isinstance(metric, ir.Compare) and metric.left == ir.MetricRef(
        task="evaluate", output="metrics", key="auc"
    )
    assert isinstance(first.operands[1], ir.Not)
    scopes = {st.task.name: st.scopes for st in scoped_tasks(p)}
    assert scopes["act"] == (("then", cond.id),) and scopes["act_2"] == (("otherwise", cond.id),)


def test_fan_out_fan_in_parallelism_and_final(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        """
@step
def fit(c: float, model: Output[Model]) -> float:
    return c

@step
def best(scores: list, models: Input[list[Model]]) -> float:
    return 0.0

@step
def notify(msg: str) -> None:
    pass

@pipeline
def flow(msg: str = "done"):
    final(notify(msg=msg))
    with for_each([{"c": 0.1}, {"c": 1.0}], parallelism=1) as item:
        t = fit(c=item["c"])
    best(scores=collect(t.output), models=collect(t.model))
""",
    )
    (loop,) = [n for n in p.body if isinstance(n, ir.Loop)]
    assert (
        loop.parallelism == 1
        and loop.items == ir.Literal(value=[{"c": 0.1}, {"c": 1.0}])
        and loop.item_type == "dict"
    )
    fit = tasks_by_name(p)["fit"].task
    assert fit.inputs["c"] == ir.LoopItemRef(loop=loop.id, key="c")
    best = tasks_by_name(p)["best"].task
    assert best.inputs == {
        "scores": ir.CollectedRef(task="fit", output="output"),
        "models": ir.CollectedRef(task="fit", output="model"),
    }
    assert p.components["best"].input("models") == ir.Port(name="models", type="list[Model]")
    assert p.final is not None and p.final.name == "notify"
    assert all(t.task.name != "notify" for t in scoped_tasks(p) if t.scopes != (("final", ""),))


def test_runtime_and_parameter_fan_out(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        """
@step
def listing() -> list:
    return [1, 2]

@step
def work(x: int) -> None:
    pass

@pipeline
def flow(values: list = [1, 2, 3]):
    with for_each(listing().output) as item:
        work(x=item)
    with for_each(values, parallelism=2) as v:
        work(x=v)
""",
    )
    loops = [n for n in p.body if isinstance(n, ir.Loop)]
    assert loops[0].items == ir.OutputRef(task="listing", output="output")
    assert loops[1].items == ir.ParamRef(name="values") and loops[1].parallelism == 2


def test_builtins_register_deploy_batch_fail(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        """
@step
def train(model: Output[Model], data: Output[Dataset]) -> float:
    return 0.9

@pipeline
def flow(status: str = "Approved", limit: float = 0.5):
    t = train()
    with when(t.output > limit):
        r = register_model(t.model, name="churn", approval=status, framework="sklearn")
        deploy_model(r.registered_model, endpoint="churn-live", min_replicas=1, max_replicas=3)
        batch_predict(r.registered_model, t.data)
    with otherwise():
        fail(f"score {t.output} under {limit}")
""",
    )
    tasks = tasks_by_name(p)
    reg = p.components["register_model"]
    assert (
        reg.kind == "builtin"
        and reg.builtin is not None
        and reg.builtin.config["model_name"] == "churn"
    )
    assert tasks["register_model"].task.inputs["approval"] == ir.ParamRef(name="status")
    assert p.components["deploy_model"].builtin.config == {
        "endpoint": "churn-live",
        "min_replicas": 1,
        "max_replicas": 3,
    }  # type: ignore[union-attr]
    assert tasks["batch_predict"].task.inputs["model"] == ir.OutputRef(
        task="register_model", output="registered_model"
    )
    message = tasks["fail"].task.inputs["message"]
    assert message == ir.TemplateRef(
        parts=(
            "score ",
            ir.OutputRef(task="train", output="output"),
            " under ",
            ir.ParamRef(name="limit"),
        )
    )


def test_nested_pipeline_merge_and_outputs(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        """
@step
def make(data: Output[Dataset]) -> int:
    return 1

@step
def say(word: str) -> str:
    return word

@pipeline
def inner(n: int = 1):
    m = make()
    return {"data": m.data, "count": m.output}

@pipeline
def outer(flag: bool = True):
    sub = inner(n=2)
    with when(sub.outputs["count"] > 0):
        a = say(word="yes")
    with otherwise():
        b = say(word="no")
    chosen = merge(a.output, b.output)
    say(word=chosen)
    return {"chosen": chosen, "data": sub.outputs["data"]}
""",
    )
    nested = p.components["inner"]
    assert nested.kind == "pipeline" and nested.pipeline is not None
    assert [o.name for o in nested.outputs] == ["data", "count"]
    assert nested.pipeline.outputs[0].source == ir.OutputRef(task="make", output="data")
    assert p.sources and not nested.pipeline.sources
    merged = ir.OneOfRef(
        options=(
            ir.OutputRef(task="say", output="output"),
            ir.OutputRef(task="say_2", output="output"),
        )
    )
    assert tasks_by_name(p)["say_3"].task.inputs["word"] == merged
    assert [(o.name, o.type, o.source) for o in p.outputs] == [
        ("chosen", "str", merged),
        ("data", "Dataset", ir.OutputRef(task="inner", output="data")),
    ]


def test_schedule_description_and_outside_call(tmp_path: Path) -> None:
    p = build(
        tmp_path,
        '''
@step
def unit(x: int) -> int:
    return x + 1

@pipeline(schedule="*/15 2-4 * JAN-MAR MON-FRI", timezone="Europe/Paris")
def flow():
    """Runs on weekdays."""
    unit(x=1)
''',
    )
    assert p.schedule == ir.Schedule(cron="*/15 2-4 * JAN-MAR MON-FRI", timezone="Europe/Paris")
    assert p.description == "Runs on weekdays."


def test_step_is_a_plain_function_outside_pipelines() -> None:
    from mlcompile import step

    @step
    def double(x: int) -> int:
        return 2 * x

    assert double(x=4) == 8


def test_step_code_includes_the_project_modules_it_imports(tmp_path: Path) -> None:
    """Local modules travel with the step, and editing one changes the step's code hash."""
    import sys

    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "__init__.py").write_text("from features.ratio import ratio\n")
    (tmp_path / "features" / "ratio.py").write_text("def ratio(a, b):\n    return a / b\n")
    (tmp_path / "unused.py").write_text("X = 1\n")
    source = """
import json
from features import ratio

@step
def divide(a: float, b: float) -> float:
    return ratio(a, b)

@pipeline
def flow():
    divide(a=1.0, b=2.0)
"""
    first = build(tmp_path, source)
    code = first.components["divide"].function
    assert code is not None
    # `from features import ratio` may name a submodule, so features/ratio.py counts too.
    assert first.sources[code.file].imports == ("features/__init__.py", "features/ratio.py")
    assert first.sources["features/__init__.py"].imports == ("features/ratio.py",)
    assert "unused.py" not in first.sources and len(first.sources) == 3
    (tmp_path / "features" / "ratio.py").write_text("def ratio(a, b):\n    return b and a / b\n")
    for name in [m for m in sys.modules if m.startswith("features")]:
        del sys.modules[name]
    second = build(tmp_path, source)
    again = second.components["divide"].function
    assert again is not None and again.sha256 != code.sha256
