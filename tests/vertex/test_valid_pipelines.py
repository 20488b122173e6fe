"""Valid pipelines that were refused or compiled wrongly for Vertex AI: each is compiled through
the real compiler, parsed strictly into kfp's protobufs (one document), its GCPC components'
inputs checked against GCPC's own interfaces, and executed by the KFP-IR emulator, which runs
GCPC's custom job launcher's payload as Vertex would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcompile.loader import load
from mlcompile.platforms.vertex.gcpc import COMPONENTS
from tests.valid_pipelines import LONG, LONG_NAMES, checked_spec, cli, compile_for, emulate, write


def vertex_spec(path: Path, tmp_path: Path) -> dict[str, Any]:
    files = compile_for(path, "vertex-dev")
    (spec,) = checked_spec(files, tmp_path)
    assert json.loads(files["pipeline_job.json"])["pipelineSpec"] == spec
    return spec


def custom_job_components(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Components running GCPC's custom job launcher, by name; each one's interface holds every
    launcher input and output with GCPC's own type, as create_custom_training_job_from_component
    writes them."""
    launcher = COMPONENTS["custom_job"]
    found = {}
    for name, component in spec["components"].items():
        label = component.get("executorLabel")
        if label and spec["deploymentSpec"]["executors"][label] == launcher["executor"]:
            found[name] = component
            for section in ("inputDefinitions", "outputDefinitions"):
                ours = component[section]["parameters"]
                for key, definition in launcher["interface"][section]["parameters"].items():
                    assert ours[key]["parameterType"] == definition["parameterType"], key
    return found


# ----- 1. a step name at the limit, called twice ------------------------------------------


def test_a_step_name_at_the_limit_called_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "long_names", LONG_NAMES)
    assert [t.name for t in load(str(path)).build().body] == [LONG, LONG[:62] + "_2"]  # type: ignore[union-attr]
    spec = vertex_spec(path, tmp_path)
    assert sorted(spec["root"]["dag"]["tasks"]) == sorted(["import-code", LONG, LONG[:62] + "-2"])
    run = emulate(path, "vertex-dev", tmp_path / "store")
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"output": 3}


# ----- 2. a training step's inputs named like the custom job launcher's ---------------------

CLASH = """
from typing import NamedTuple

from mlcompile import Dataset, Input, Output, container_step, pipeline, step, Command


class Trained(NamedTuple):
    gcp_resources: str
    score: float


@step
def make(project: Output[Dataset]) -> None:
    with open(project.path, "w") as f:
        f.write("rows")


@step(kind="training")
def train(
    labels: str, location: str, project: Input[Dataset], network: str = "none"
) -> Trained:
    with open(project.path) as f:
        text = f.read()
    return Trained(f"{labels}|{location}|{network}|{text}", 0.5)


@container_step(image="python:3.11-slim", timeout="10m")
def echo(labels: str, gcp_resources: Output[Dataset]) -> Command:
    return Command(
        ["sh", "-c", 'mkdir -p "$(dirname "$1")" && printf %s "$0" > "$1"', labels, gcp_resources]
    )


@step
def report(resources: str, score: float, echoed: Input[Dataset]) -> str:
    with open(echoed.path) as f:
        return f"{resources}:{score}:{f.read()}"


@pipeline
def clash(labels: str = "a,b", location: str = "here") -> str:
    data = make()
    trained = train(labels=labels, location=location, project=data.outputs["project"])
    echoed = echo(labels=labels)
    return report(
        resources=trained.outputs["gcp_resources"],
        score=trained.outputs["score"],
        echoed=echoed.outputs["gcp_resources"],
    )
"""


def _gcpc_interface(component: dict[str, Any]) -> dict[str, Any]:
    """The interface GCPC's create_custom_training_job_from_component writes around a kfp
    component with the same (renamed) inputs and outputs as ``component``, names and types only."""
    from google.protobuf import json_format
    from google_cloud_pipeline_components.v1.custom_job import (
        create_custom_training_job_from_component,
    )
    from kfp import components

    launcher = COMPONENTS["custom_job"]["interface"]
    user = {
        section: {
            kind: {k: v for k, v in specs.items() if k not in launcher[section]["parameters"]}
            for kind, specs in component[section].items()
        }
        for section in ("inputDefinitions", "outputDefinitions")
    }
    spec = {
        "components": {"comp-user": {"executorLabel": "exec-user", **user}},
        "deploymentSpec": {"executors": {"exec-user": {"container": {"image": "python:3.11"}}}},
        "pipelineInfo": {"name": "user"},
        "root": {
            "dag": {
                "tasks": {
                    "user": {"componentRef": {"name": "comp-user"}, "taskInfo": {"name": "user"}}
                }
            },
            **user,
        },
        "schemaVersion": "2.1.0",
        "sdkVersion": "kfp-2.17.3",
    }
    wrapped = create_custom_training_job_from_component(
        components.load_component_from_text(yaml.safe_dump(spec))
    )
    root = json_format.MessageToDict(wrapped.pipeline_spec)["components"]
    (only,) = root.values()
    return _names_and_types(only)


def _names_and_types(component: dict[str, Any]) -> dict[str, Any]:
    return {
        section: {
            kind: {
                k: v.get("parameterType") or v["artifactType"]["schemaTitle"]
                for k, v in specs.items()
            }
            for kind, specs in component.get(section, {}).items()
            if specs
        }
        for section in ("inputDefinitions", "outputDefinitions")
    }


def test_launcher_names_are_renamed_and_the_function_gets_its_own(tmp_path: Path) -> None:
    path = write(tmp_path, "clash", CLASH)
    spec = vertex_spec(path, tmp_path)
    jobs = custom_job_components(spec)
    train, echo = jobs["comp-train"], jobs["comp-echo"]
    params = train["inputDefinitions"]["parameters"]
    assert params["labels"] == COMPONENTS["custom_job"]["interface"]["inputDefinitions"][
        "parameters"
    ]["labels"] | {"defaultValue": params["labels"]["defaultValue"]}
    assert params["step_labels"] == {"parameterType": "STRING"}
    assert params["step_network"] == {
        "defaultValue": "none",
        "isOptional": True,
        "parameterType": "STRING",
    }
    assert "step_project" in train["inputDefinitions"]["artifacts"]
    assert "step_gcp_resources" in train["outputDefinitions"]["parameters"]
    assert _names_and_types(train) == _gcpc_interface(train), "GCPC writes the same interface"
    assert _names_and_types(echo) == _gcpc_interface(echo)
    tasks = spec["root"]["dag"]["tasks"]
    assert set(tasks["train"]["inputs"]["parameters"]) == {"step_labels", "step_location"}
    assert tasks["report"]["inputs"]["parameters"]["resources"]["taskOutputParameter"] == {
        "outputParameterKey": "step_gcp_resources",
        "producerTask": "train",
    }
    assert tasks["report"]["inputs"]["artifacts"]["echoed"]["taskOutputArtifact"] == {
        "outputArtifactKey": "step_gcp_resources",
        "producerTask": "echo",
    }
    pool = echo["inputDefinitions"]["parameters"]["worker_pool_specs"]["defaultValue"][0]
    assert pool["container_spec"]["command"][-2:] == [
        "{{$.inputs.parameters['step_labels']}}",
        "{{$.outputs.artifacts['step_gcp_resources'].path}}",
    ]
    run = emulate(path, "vertex-dev", tmp_path / "store", "labels=x,y")
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"output": "x,y|here|none|rows:0.5:x,y"}


# ----- 4. GPUs by any platform's spelling; requests and limits apart ------------------------

GPU = """
from mlcompile import Resources, pipeline, step


@step(kind="training", resources=Resources(gpu={count}, gpu_type="{gpu_type}"))
def train(n: int) -> int:
    return n + 1


@step(resources=Resources(cpu=1, cpu_limit=4, memory="1Gi", memory_limit="8Gi", gpu=1,
                          gpu_type="{gpu_type}"))
def score(n: int) -> int:
    return n * 2


@pipeline
def accelerated(n: int = 1) -> int:
    return score(n=train(n=n))
"""

#: spelling -> (Vertex accelerator, the custom job's machine for one GPU)
SPELLINGS = {
    "A100": ("NVIDIA_TESLA_A100", "a2-highgpu-1g"),
    "nvidia-a100": ("NVIDIA_TESLA_A100", "a2-highgpu-1g"),
    "NVIDIA_TESLA_A100": ("NVIDIA_TESLA_A100", "a2-highgpu-1g"),
    "nvidia-tesla-t4": ("NVIDIA_TESLA_T4", "n1-standard-4"),
    "NVIDIA_TESLA_P4": ("NVIDIA_TESLA_P4", "n1-standard-4"),
    "NVIDIA_L4": ("NVIDIA_L4", "g2-standard-4"),
    "H100": ("NVIDIA_H100_80GB", "a3-highgpu-8g"),
    "nvidia-a100-80gb": ("NVIDIA_A100_80GB", "a2-ultragpu-1g"),
}


@pytest.mark.parametrize("gpu_type", sorted(SPELLINGS))
def test_gpu_spellings_map_to_the_vertex_accelerator(gpu_type: str, tmp_path: Path) -> None:
    from google.cloud.aiplatform_v1.types import AcceleratorType

    accelerator, machine = SPELLINGS[gpu_type]
    path = write(tmp_path, "accelerated", GPU.format(count=1, gpu_type=gpu_type))
    spec = vertex_spec(path, tmp_path)
    train = custom_job_components(spec)["comp-train"]["inputDefinitions"]["parameters"]
    (pool,) = train["worker_pool_specs"]["defaultValue"]
    count = 8.0 if machine.endswith("-8g") else 1.0
    assert pool["machine_spec"] == {
        "accelerator_count": count,
        "accelerator_type": accelerator,
        "machine_type": machine,
    }
    assert accelerator in AcceleratorType.__members__
    container = spec["deploymentSpec"]["executors"]["exec-score"]["container"]
    assert container["resources"]["accelerator"]["resourceType"] == accelerator
    assert container["resources"]["resourceCpuLimit"] == "1", "Vertex sizes by the request"
    assert container["resources"]["resourceMemoryLimit"] == "1Gi"
    assert "resourceCpuRequest" not in container["resources"]


def test_a_gpu_spelling_runs_on_the_emulator(tmp_path: Path) -> None:
    path = write(tmp_path, "accelerated", GPU.format(count=1, gpu_type="A100"))
    run = emulate(path, "vertex-dev", tmp_path / "store", "n=3")
    assert run["status"] == "succeeded" and run["outputs"] == {"output": 8}, run


@pytest.mark.parametrize(
    ("gpu_type", "words"),
    [
        ("nvidia-a10g", "GPU type 'nvidia-a10g' (NVIDIA A10G) is not offered on Vertex AI"),
        ("A1000", "GPU type 'A1000' is not one mlcompile knows"),
    ],
)
def test_a_gpu_vertex_lacks_is_refused_naming_what_it_offers(
    gpu_type: str, words: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "accelerated", GPU.format(count=1, gpu_type=gpu_type))
    done = cli("check", str(path), "--target", "vertex-dev", "--json")
    diagnostics = json.loads(done.stdout)["diagnostics"]
    assert sorted((d["code"], d["line"], d["step"]) for d in diagnostics) == [
        ("MLC401", 18, "score"),
        ("MLC401", 18, "train"),
    ], "located at each step's call"
    for diagnostic in diagnostics:
        assert words in diagnostic["message"]
        assert "does not support" not in diagnostic["message"]
        assert "nvidia-tesla-a100 (NVIDIA A100 40GB)" in diagnostic["message"]


def test_more_gpus_than_a_machine_has_is_refused_as_too_large(tmp_path: Path) -> None:
    path = write(tmp_path, "accelerated", GPU.format(count=16, gpu_type="A100"))
    done = cli("check", str(path), "--target", "vertex-dev", "--json")
    (refusal,) = [d for d in json.loads(done.stdout)["diagnostics"] if d["step"] == "train"]
    assert "no nvidia-tesla-a100 machine has 16 GPUs" in refusal["message"]
