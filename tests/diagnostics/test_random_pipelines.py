"""Random valid pipelines, compiled for every platform and checked by independent validators.

Each generated pipeline is a valid program a user could write: a few steps wired by their
outputs, with options, branches and literal fan-outs. Every platform must accept it (these
features are mapped or lowered everywhere), and its output must pass the validators: a strict
protobuf parse and each task's inputs against its component's declared ones for KFP and Vertex
(GCPC components included), and botocore's request shapes with every ``Get`` resolved for
SageMaker (the compiler's own validator, run by ``compile``).

The number of examples is bounded so the suite stays fast; raise ``MLCOMPILE_RANDOM_EXAMPLES``
to search longer.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlcompile import platforms
from mlcompile.loader import load
from tests.conftest import profile
from tests.diagnostics.test_component_interfaces import interface_problems
from tests.kubeflow.kfp_checks import strict_parse

EXAMPLES = int(os.environ.get("MLCOMPILE_RANDOM_EXAMPLES", "6"))
_files = itertools.count()

HEADER = """
from mlcompile import *
from mlcompile import Input, Output


@step
def make(seed: int, data: Output[Dataset]) -> None:
    data.path


@step
def train(data: Input[Dataset], lr: float, model: Output[Model]) -> float:
    return lr


@step
def score(x: float) -> float:
    return x


@step
def evaluate(model: Input[Model], metrics: Output[Metrics]) -> None:
    metrics.path
"""

OPTIONS = st.sampled_from(
    [
        "",
        ".with_options(retries=2)",
        ".with_options(cache=False)",
        ".with_options(timeout='30m')",
        ".with_options(resources=Resources(cpu=1, memory='2Gi'))",
        ".with_options(env={'LOG_LEVEL': 'debug'})",
    ]
)


@st.composite
def pipelines(draw: st.DrawFn) -> str:
    """The source of a valid pipeline: a data step, then a random sequence of constructs."""
    lines = ["d0 = make(seed=seed)" + draw(OPTIONS)]
    datasets, numbers, models = ["d0.data"], ["lr"], []
    for index in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["train", "score", "branch", "loop", "evaluate", "register"]))
        name = f"t{index}"
        if kind == "train" or (not models and kind in ("evaluate", "register")):
            data = draw(st.sampled_from(datasets))
            lr = draw(st.sampled_from(numbers))
            lines.append(f"{name} = train(data={data}, lr={lr})" + draw(OPTIONS))
            models.append(f"{name}.model")
            numbers.append(f"{name}.output")
        elif kind == "score":
            lines.append(f"{name} = score(x={draw(st.sampled_from(numbers))})" + draw(OPTIONS))
            numbers.append(f"{name}.output")
        elif kind == "branch":
            value = draw(st.sampled_from(numbers))
            threshold = draw(st.floats(0, 1, allow_nan=False).map(lambda f: round(f, 2)))
            lines.append(f"with when({value} > {threshold}):")
            lines.append(f"    score(x={value})" + draw(OPTIONS))
            if draw(st.booleans()):
                lines.append("with otherwise():")
                lines.append(f"    score(x={threshold})")
        elif kind == "loop":
            items = draw(st.lists(st.integers(0, 9), min_size=1, max_size=3))
            lines.append(f"with for_each({items}) as item_{index}:")
            lines.append(f"    make(seed=item_{index})" + draw(OPTIONS))
        elif kind == "evaluate":
            lines.append(f"{name} = evaluate(model={draw(st.sampled_from(models))})")
        else:
            lines.append(f"register_model({draw(st.sampled_from(models))}, name='m{index}')")
    body = "\n".join("    " + line for line in lines)
    return f"{HEADER}\n\n@pipeline\ndef flow(seed: int = 1, lr: float = 0.1):\n{body}\n"


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source=pipelines())
def test_random_valid_pipelines_compile_and_validate(source: str, tmp_path: Path) -> None:
    path = tmp_path / f"random_{next(_files)}.py"
    path.write_text(source)
    pipeline = load(str(path)).build()
    for target in ("kubeflow-dev", "sagemaker-dev", "vertex-dev"):
        chosen = profile(target)
        platform = platforms.get(chosen.platform)
        errors = [d for d in platform.check(pipeline, chosen) if d.severity == "error"]
        assert errors == [], f"{target} refused a valid pipeline:\n{source}"
        output = platform.compile(pipeline, chosen)
        out = tmp_path / f"{path.stem}-{target}"
        out.mkdir()
        for rel, data in output.files.items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(data)
        if "pipeline.yaml" in output.files:
            docs = strict_parse(out / "pipeline.yaml")
            assert interface_problems(docs[0]) == [], source
            assert yaml.safe_load_all(output.files["pipeline.yaml"])
