"""Valid pipelines that were refused or compiled wrongly for Kubeflow: each is compiled through
the real compiler, parsed strictly into kfp's protobufs, loaded by kfp, and executed by the
KFP-IR emulator (and, where the step is plain Python, by kfp's own local runner)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcompile.loader import load
from tests.kubeflow.runner_venv import run_spec
from tests.valid_pipelines import (
    LONG,
    LONG_NAMES,
    checked_spec,
    cli,
    compile_for,
    emulate,
    write,
    write_build,
)

# ----- 1. a step name at the limit, called twice ------------------------------------------


def test_a_step_name_at_the_limit_called_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "long_names", LONG_NAMES)
    pipeline = load(str(path)).build()
    first, second = (t.name for t in pipeline.body)  # type: ignore[union-attr]
    assert first == LONG
    assert second == LONG[:62] + "_2" and len(second) == 64
    spec, _ = checked_spec(compile_for(path, "kubeflow-dev"), tmp_path)
    assert sorted(spec["root"]["dag"]["tasks"]) == sorted(["import-code", LONG, LONG[:62] + "-2"])
    run = emulate(path, "kubeflow-dev", tmp_path / "store")
    assert run["status"] == "succeeded", run
    assert run["outputs"] == {"output": 3}
    assert {s["name"] for s in run["steps"]} >= {LONG, LONG[:62] + "-2"}


@pytest.mark.slow
def test_a_step_name_at_the_limit_runs_on_kfps_runner(kfp_python: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "long_names", LONG_NAMES)
    build = write_build(compile_for(path, "kubeflow-dev"), tmp_path / "build")
    (bundle,) = (build / "code").glob("*.tar.gz")
    (tmp_path / "cwd").mkdir()
    data, _ = run_spec(
        kfp_python,
        build / "pipeline.yaml",
        tmp_path / "root",
        tmp_path / "cwd",
        mlcompile_code_uri=str(bundle),
        n=5,
    )
    assert data == {"outputs": {"output": 7}}


# ----- 3. a schedule in a time zone -------------------------------------------------------

SCHEDULED = """
from mlcompile import pipeline, step


@step
def report(n: int) -> int:
    return n * 2


@pipeline(schedule="{cron}", timezone="{zone}")
def weekly(n: int = 2) -> int:
    return report(n=n)
"""

#: (cron, zone, the recurring run's six-field UTC cron, whether daylight saving is warned of)
SCHEDULES = [
    ("0 3 * * 1", "Europe/London", "0 0 3 * * 1", True),
    ("0 3 * * 1", "Asia/Kolkata", "0 30 21 * * 0", False),
    ("0 3 * * 1", "America/New_York", "0 0 8 * * 1", True),
    ("0 3 * * 1", "Australia/Sydney", "0 0 17 * * 0", True),
    ("0 3 * * 1", "UTC", "0 0 3 * * 1", False),
]


def _check(path: Path) -> list[dict[str, Any]]:
    done = cli("check", str(path), "--target", "kubeflow-dev", "--json")
    diagnostics: list[dict[str, Any]] = json.loads(done.stdout)["diagnostics"]
    return diagnostics


@pytest.mark.parametrize(("cron", "zone", "utc", "warned"), SCHEDULES)
def test_a_schedule_in_a_time_zone_runs_on_the_utc_cron(
    cron: str, zone: str, utc: str, warned: bool, tmp_path: Path
) -> None:
    path = write(tmp_path, "weekly", SCHEDULED.format(cron=cron, zone=zone))
    files = compile_for(path, "kubeflow-dev")
    checked_spec(files, tmp_path)
    schedule = yaml.safe_load(files["schedule.yaml"])["recurring_run"]
    assert schedule["trigger"] == {"cron_schedule": {"cron": utc}}
    if zone != "UTC":
        assert f"{cron!r} in {zone}" in schedule["description"]
    diagnostics = _check(path)
    assert [d["code"] for d in diagnostics] == (["MLC410"] if warned else [])
    if warned:
        (warning,) = diagnostics
        assert warning["severity"] == "warning" and warning["line"] == 10
        assert "standard offset" in warning["message"] and "1 hour" in warning["message"]


def test_the_scheduled_pipeline_runs(tmp_path: Path) -> None:
    path = write(tmp_path, "weekly", SCHEDULED.format(cron="0 3 * * 1", zone="Asia/Kolkata"))
    run = emulate(path, "kubeflow-dev", tmp_path / "store")
    assert run["status"] == "succeeded" and run["outputs"] == {"output": 4}, run


def test_a_schedule_with_no_exact_utc_cron_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "weekly", SCHEDULED.format(cron="0 3 1,15 * *", zone="Asia/Kolkata"))
    done = cli("compile", str(path), "--target", "kubeflow-dev", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    (refusal,) = json.loads(cli("check", str(path), "--target", "kubeflow-dev", "--json").stdout)[
        "diagnostics"
    ]
    assert (refusal["code"], refusal["line"]) == ("MLC401", 10)
    assert "day of month '1,15' includes the 1st" in refusal["message"]
    assert not (tmp_path / "out").exists()
    for zone in ("UTC", "Asia/Tokyo"):  # no shift across midnight, or none at all
        ok = write(tmp_path, "weekly", SCHEDULED.format(cron="0 12 1,15 * *", zone=zone))
        assert compile_for(ok, "kubeflow-dev")["schedule.yaml"]


# ----- 4. GPUs by any platform's spelling; requests and limits apart ------------------------

RESOURCES = """
from mlcompile import Resources, pipeline, step


@step(resources=Resources(cpu="500m", cpu_limit=2, memory="256Mi", memory_limit="1Gi"))
def small(n: int) -> int:
    return n + 1


@step(resources=Resources(cpu=1, memory="1Gi"))
def exact(n: int) -> int:
    return n * 10


@step(resources=Resources(gpu=1, gpu_type="{gpu_type}"))
def accelerate(n: int) -> int:
    return n


@pipeline
def sized(n: int = 1) -> int:
    accelerate(n=n)
    return exact(n=small(n=n))
"""


def _kfp_resources(**calls: str) -> dict[str, Any]:
    """The container resources kfp's own compiler writes for a task with these setters."""
    from kfp import compiler, dsl

    # No return annotations: this module's postponed annotations would be strings to kfp.
    @dsl.container_component  # type: ignore[misc]
    def task():  # type: ignore[no-untyped-def]
        return dsl.ContainerSpec(image="python:3.11", command=["true"])

    @dsl.pipeline  # type: ignore[misc]
    def one():  # type: ignore[no-untyped-def]
        t = task()
        for setter, value in calls.items():
            getattr(t, setter)(value)

    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.yaml"
        compiler.Compiler().compile(one, str(path))
        spec = yaml.safe_load(path.read_text())
    (executor,) = spec["deploymentSpec"]["executors"].values()
    resources: dict[str, Any] = executor["container"]["resources"]
    return resources


def test_requests_and_limits_are_written_apart(tmp_path: Path) -> None:
    path = write(tmp_path, "sized", RESOURCES.format(gpu_type="A100"))
    spec, _ = checked_spec(compile_for(path, "kubeflow-dev"), tmp_path)
    executors = spec["deploymentSpec"]["executors"]
    assert executors["exec-small"]["container"]["resources"] == _kfp_resources(
        set_cpu_request="500m",
        set_cpu_limit="2",
        set_memory_request="256Mi",
        set_memory_limit="1Gi",
    ), "a small step reserves its request and may use up to its limit"
    assert executors["exec-exact"]["container"]["resources"] == _kfp_resources(
        set_cpu_request="1", set_cpu_limit="1", set_memory_request="1Gi", set_memory_limit="1Gi"
    ), "cpu= and memory= alone still mean request = limit"
    run = emulate(path, "kubeflow-dev", tmp_path / "store")
    assert run["status"] == "succeeded" and run["outputs"] == {"output": 20}, run


@pytest.mark.parametrize(
    ("gpu_type", "label"),
    [
        ("A100", "nvidia-tesla-a100"),
        ("nvidia-a100", "nvidia-tesla-a100"),
        ("NVIDIA_TESLA_A100", "nvidia-tesla-a100"),
        ("nvidia-tesla-t4", "nvidia-tesla-t4"),
        ("NVIDIA_TESLA_P4", "nvidia-tesla-p4"),
        ("NVIDIA_L4", "nvidia-l4"),
        ("H100", "nvidia-h100-80gb"),
        ("my-cluster-gpu", "my-cluster-gpu"),
    ],
)
def test_gpu_spellings_select_the_canonical_node_label(
    gpu_type: str, label: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "sized", RESOURCES.format(gpu_type=gpu_type))
    for target, key in (
        ("kubeflow-dev", "k8s.amazonaws.com/accelerator"),
        ("kubeflow-azure", "accelerator"),
    ):
        spec, platform = checked_spec(compile_for(path, target), tmp_path)
        container = spec["deploymentSpec"]["executors"]["exec-accelerate"]["container"]
        assert container["resources"]["accelerator"]["resourceType"] == "nvidia.com/gpu"
        config = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
        assert config["exec-accelerate"]["nodeSelector"] == {"labels": {key: label}}


@pytest.mark.slow
def test_requests_and_limits_run_on_kfps_runner(kfp_python: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "sized", RESOURCES.format(gpu_type="A100"))
    build = write_build(compile_for(path, "kubeflow-dev"), tmp_path / "build")
    spec = next(yaml.safe_load_all((build / "pipeline.yaml").read_text()))
    # kfp's local runner runs no GPU: drop the accelerator step, keep the sized ones.
    del spec["root"]["dag"]["tasks"]["accelerate"]
    (build / "pipeline.yaml").write_text(yaml.safe_dump(spec))
    (bundle,) = (build / "code").glob("*.tar.gz")
    (tmp_path / "cwd").mkdir()
    data, _ = run_spec(
        kfp_python,
        build / "pipeline.yaml",
        tmp_path / "root",
        tmp_path / "cwd",
        mlcompile_code_uri=str(bundle),
        n=4,
    )
    assert data == {"outputs": {"output": 50}}


SERVED = """
from mlcompile import Model, Output, Resources, deploy_model, pipeline, register_model, step


@step
def train(model: Output[Model]) -> None:
    open(model.path, "w").write("m")


@pipeline
def served() -> None:
    registered = register_model(train().outputs["model"], name="churn")
    deploy_model(
        registered.outputs["registered_model"],
        endpoint="churn",
        resources=Resources(cpu=1, cpu_limit=2, memory="1Gi"),
    )
"""


def test_an_endpoints_limits_reach_its_inference_service(tmp_path: Path) -> None:
    path = write(tmp_path, "served", SERVED)
    spec, _ = checked_spec(compile_for(path, "kubeflow-dev"), tmp_path)
    args = spec["deploymentSpec"]["executors"]["exec-deploy-model"]["container"]["args"]
    config = json.loads(args[args.index("--config") + 1])
    assert config["serving_resources"] == {"cpu": "1", "memory": "1Gi"}
    assert config["serving_limits"] == {"cpu": "2", "memory": "1Gi"}
