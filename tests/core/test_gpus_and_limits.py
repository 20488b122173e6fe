"""The GPU catalogue (every platform's spelling, one canonical type, each platform's own name)
and a step's requests and limits as the DSL normalises them."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import canonical_json
from mlcompile.platforms import gpus
from mlcompile.platforms.sagemaker import instances
from mlcompile.platforms.vertex import machines

from .helpers import build, errors

SPELLINGS = {
    "A100": "nvidia-tesla-a100",
    "a100": "nvidia-tesla-a100",
    "nvidia-a100": "nvidia-tesla-a100",
    "NVIDIA_TESLA_A100": "nvidia-tesla-a100",
    "nvidia-tesla-a100": "nvidia-tesla-a100",
    "a100-40gb": "nvidia-tesla-a100",
    "NVIDIA_A100_80GB": "nvidia-a100-80gb",
    "nvidia-tesla-t4": "nvidia-tesla-t4",
    "T4": "nvidia-tesla-t4",
    "NVIDIA_TESLA_P4": "nvidia-tesla-p4",
    "NVIDIA_L4": "nvidia-l4",
    "nvidia-l4": "nvidia-l4",
    "H100": "nvidia-h100-80gb",
    "NVIDIA_H100_80GB": "nvidia-h100-80gb",
    "nvidia a10g": "nvidia-a10g",
    "V100": "nvidia-tesla-v100",
    None: "nvidia-tesla-t4",
}


@pytest.mark.parametrize("spelling", list(SPELLINGS), ids=str)
def test_every_spelling_names_its_canonical_type(spelling: str | None) -> None:
    assert gpus.canonical(spelling) == SPELLINGS[spelling]


def test_unknown_spellings_are_not_guessed() -> None:
    assert gpus.lookup("amd-mi300x") is None
    assert "Did you mean 'nvidia-a10g'" in gpus.unknown("nvidia-a1000")


def test_vertex_names_are_vertex_accelerators() -> None:
    from google.cloud.aiplatform_v1.types import AcceleratorType

    with_vertex = {g.name: g.vertex for g in gpus.GPUS if g.vertex}
    assert {k: a.vertex_name for k, a in machines.ACCELERATORS.items()} == with_vertex
    assert set(with_vertex.values()) <= set(AcceleratorType.__members__)


def test_sagemaker_families_are_instances_an_api_takes() -> None:
    families = {family for g in gpus.GPUS for family in g.sagemaker}
    assert families == set(instances.GPU_INSTANCES)
    every = frozenset().union(*(instances.offered(api) for api in instances.API_MEMBERS))
    for rows in instances.GPU_INSTANCES.values():
        for name, *_ in rows:
            assert name in every, name
    for name, *_ in instances.CPU_INSTANCES:
        assert name in instances.offered("processing") and name in instances.offered("training")


LIMITS = {
    # Resources(...) -> (cpu, cpu_limit, memory_bytes, memory_limit_bytes)
    'cpu="500m", cpu_limit=2': (0.5, 2.0, None, None),
    "cpu_limit=2": (2.0, None, None, None),
    "cpu=2, cpu_limit=2": (2.0, None, None, None),
    'memory="256Mi", memory_limit="1Gi"': (None, None, 256 << 20, 1 << 30),
    'memory_limit="1Gi"': (None, None, 1 << 30, None),
    'cpu=1, memory="1Gi"': (1.0, None, 1 << 30, None),
}


@pytest.mark.parametrize("given", sorted(LIMITS))
def test_requests_and_limits(given: str, tmp_path: Path) -> None:
    pipeline = build(
        tmp_path,
        f"""
        @step(resources=Resources({given}))
        def work() -> None:
            pass

        @pipeline
        def flow():
            work()
        """,
    )
    (task,) = pipeline.body
    assert isinstance(task, ir.Task)
    r = task.options.resources
    assert (r.cpu, r.cpu_limit, r.memory_bytes, r.memory_limit_bytes) == LIMITS[given]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("cpu=2, cpu_limit=1", "cpu_limit=1 is below cpu=2"),
        ('memory="2Gi", memory_limit="1Gi"', "memory_limit='1Gi' is below memory='2Gi'"),
        ('cpu_limit="lots"', "cpu_limit='lots' is not a CPU quantity"),
        ('memory_limit="4 gigs"', "memory_limit='4 gigs' is not a quantity of bytes"),
    ],
)
def test_bad_limits_are_located(given: str, words: str, tmp_path: Path) -> None:
    found = errors(
        tmp_path,
        f"""
        @step(resources=Resources({given}))
        def work() -> None:
            pass

        @pipeline
        def flow():
            work()
        """,
    )
    assert [(d.code, words in d.message) for d in found] == [("MLC201", True)]
    assert found[0].location is not None and found[0].location.line == 4


def test_resources_without_limits_serialise_as_before() -> None:
    """The canonical JSON (and so every IR hash) of a pipeline without limits is unchanged."""
    assert canonical_json(ir.Resources(cpu=1.0)) == (
        '{"cpu":1.0,"disk_bytes":null,"gpu":0,"gpu_type":null,"memory_bytes":null}'
    )
    assert '"cpu_limit":2.0' in canonical_json(ir.Resources(cpu=1.0, cpu_limit=2.0))
    again = ir.Resources.model_validate_json(canonical_json(ir.Resources(cpu=1.0, cpu_limit=2.0)))
    assert again.cpu_limit == 2.0
