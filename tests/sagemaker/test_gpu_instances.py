"""GPU types in any platform's spelling on SageMaker: the instance comes from the instance-type
enum of the API the step uses (botocore's service model), and a request no instance of that API
fits is refused at the step, naming what exists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlcompile.bundle import code_bundle
from mlcompile.errors import DiagnosticSink
from mlcompile.ir import nodes as ir
from mlcompile.loader import load
from mlcompile.platforms.sagemaker import instances
from mlcompile.platforms.sagemaker.emit import Emitter
from mlcompile.platforms.sagemaker.instances import API_MEMBERS, NoInstance, offered
from mlcompile.platforms.sagemaker.lowering import lower
from mlcompile.platforms.sagemaker.validate import OPERATIONS, check_arguments
from tests.conftest import profile
from tests.valid_pipelines import cli, compile_for, emulate, write

ACCELERATED = """
from mlcompile import Input, Model, Output, Resources, pipeline, step


@step(kind="{kind}", resources=Resources(gpu={count}, gpu_type="{gpu_type}"))
def train(n: int, model: Output[Model]) -> None:
    with open(model.path, "w") as f:
        f.write(str(n + 1))


@step(resources=Resources(cpu=1, cpu_limit=4, memory="2Gi", memory_limit="8Gi"))
def score(model: Input[Model]) -> int:
    with open(model.path) as f:
        return int(f.read()) * 2


@pipeline
def accelerated(n: int = 1) -> int:
    return score(model=train(n=n).outputs["model"])
"""

#: (kind, spelling) -> the instance type
PICKS = {
    ("training", "A100"): "ml.p4d.24xlarge",
    ("training", "nvidia-a100"): "ml.p4d.24xlarge",
    ("training", "NVIDIA_TESLA_A100"): "ml.p4d.24xlarge",
    ("training", "nvidia-a100-80gb"): "ml.p4de.24xlarge",
    ("training", "H100"): "ml.p5.4xlarge",
    ("training", "nvidia-tesla-t4"): "ml.g4dn.xlarge",
    ("training", "NVIDIA_L4"): "ml.g6.xlarge",
    ("processing", "NVIDIA_L4"): "ml.g6.xlarge",
    ("processing", "H100"): "ml.p5.4xlarge",
    ("processing", "a10g"): "ml.g5.xlarge",
}


def _steps(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    return {s["Name"]: s for s in json.loads(files["pipeline.json"])["Steps"]}


def _instance(step: dict[str, Any]) -> str:
    args = step["Arguments"]
    resources = args.get("ResourceConfig") or args["ProcessingResources"]["ClusterConfig"]
    return str(resources["InstanceType"])


@pytest.mark.parametrize(("kind", "gpu_type"), sorted(PICKS))
def test_gpu_spellings_pick_an_instance_the_api_takes(
    kind: str, gpu_type: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "accelerated", ACCELERATED.format(kind=kind, count=1, gpu_type=gpu_type))
    steps = _steps(compile_for(path, "sagemaker-dev"))
    assert _instance(steps["train"]) == PICKS[(kind, gpu_type)]
    assert _instance(steps["score"]) == "ml.m5.large", "the request sizes the instance"
    pipeline = load(str(path)).build()
    sink = DiagnosticSink()
    definition = Emitter(
        pipeline, lower(pipeline, sink), profile("sagemaker-dev"), code_bundle(pipeline), sink
    ).definition()
    for step in definition.all_steps():
        if step.type in OPERATIONS:
            assert check_arguments(step) == [], step.name


def test_a_gpu_step_runs_on_the_emulator(tmp_path: Path) -> None:
    path = write(
        tmp_path, "accelerated", ACCELERATED.format(kind="training", count=1, gpu_type="A100")
    )
    run = emulate(path, "sagemaker-dev", tmp_path / "store", "n=3")
    assert run["status"] == "succeeded" and run["outputs"] == {"output": 8}, run


@pytest.mark.parametrize(
    ("kind", "gpu_type", "count", "words"),
    [
        (
            "processing",
            "A100",
            1,
            "SageMaker has NVIDIA A100 40GB GPUs only on ml.p4d.24xlarge, which "
            "CreateTrainingJob and CreateEndpointConfig take and CreateProcessingJob does not",
        ),
        ("training", "NVIDIA_TESLA_P4", 1, "(NVIDIA P4) is not offered on SageMaker"),
        ("training", "nvidia-tesla-t4", 8, "no nvidia-tesla-t4 instance that CreateTrainingJob"),
        ("training", "amd-mi300x", 1, "GPU type 'amd-mi300x' is not one mlcompile knows"),
    ],
)
def test_no_instance_fits_is_refused_at_the_step_naming_what_exists(
    kind: str, gpu_type: str, count: int, words: str, tmp_path: Path
) -> None:
    source = ACCELERATED.format(kind=kind, count=count, gpu_type=gpu_type)
    path = write(tmp_path, "accelerated", source)
    done = cli("compile", str(path), "--target", "sagemaker-dev", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    report = cli("check", str(path), "--target", "sagemaker-dev", "--json")
    (refusal,) = json.loads(report.stdout)["diagnostics"]
    assert (refusal["code"], refusal["step"], refusal["line"]) == ("MLC403", "train", 19)
    assert words in refusal["message"]
    if "largest" not in refusal["message"]:
        assert "nvidia-tesla-t4 (NVIDIA T4)" in refusal["message"], "what exists is listed"


@pytest.mark.parametrize("api", sorted(API_MEMBERS))
def test_every_pick_is_in_its_apis_enum(api: instances.Api) -> None:
    """Any request the table can meet is met with an instance the API takes."""
    for gpu in [0, 1, 2, 4, 8]:
        for gpu_type in ["T4", "A10G", "L4", "L40S", "V100", "A100", "A100-80GB", "H100", "H200"]:
            for cpu, gib in [(0, 0), (4, 32), (16, 64), (48, 400)]:
                r = ir.Resources(
                    gpu=gpu,
                    gpu_type=gpu_type if gpu else None,
                    cpu=float(cpu) or None,
                    memory_bytes=gib * 2**30 or None,
                )
                if not (gpu or cpu):
                    continue
                try:
                    picked = instances._from_table(r, (api,))
                except NoInstance:
                    continue
                assert picked in offered(api), (api, r)


def test_the_api_decides_what_a_request_gets() -> None:
    memory = ir.Resources(cpu=4.0, memory_bytes=32 * 2**30)
    assert instances._from_table(memory, ("processing",)) == "ml.r5.xlarge"
    assert instances._from_table(memory, ("transform",)) == "ml.m5.2xlarge", "no r5 transforms"
    a100 = ir.Resources(gpu=1, gpu_type="A100")
    assert instances._from_table(a100, ("endpoint",)) == "ml.p4d.24xlarge"
    with pytest.raises(NoInstance, match="CreateTransformJob does not"):
        instances._from_table(a100, ("transform",))
    options = ir.StepOptions(resources=a100)
    assert instances.apis_of(options) == ("processing", "endpoint")
    assert instances.apis_of(options.model_copy(update={"role": "training"})) == ("training",)
    assert instances.apis_of(options, "transform") == ("transform",)
