"""Every task of a compiled KFP/Vertex spec passes only inputs its component declares.

A task that passes an input its component does not declare is rejected when the job is
submitted (Vertex checks the PipelineJob against each component's inputDefinitions); the kfp
local runner and a strict protobuf parse both accept it, so it is checked here on its own,
for every example and feature case, GCPC components (model upload, endpoints) included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from mlcompile.loader import load
from mlcompile.platforms import get
from tests.conftest import GOLDEN_SOURCES, REFUSED_ON, profile


def _tasks(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(where, task, the inputDefinitions of its component) for every task, nested DAGs too."""
    components = spec.get("components", {})
    dags = [("root", spec["root"])] + [(name, c) for name, c in components.items()]
    for owner, component in dags:
        for name, task in (component.get("dag") or {}).get("tasks", {}).items():
            ref = task["componentRef"]["name"]
            yield f"{owner}/{name}", task, components[ref].get("inputDefinitions", {})


def interface_problems(spec: dict[str, Any]) -> list[str]:
    problems = []
    for where, task, declared in _tasks(spec):
        for kind in ("parameters", "artifacts"):
            given = set((task.get("inputs") or {}).get(kind, {}))
            # A loop's item is given by its iterator, not by the task's inputs.
            iterator = task.get(f"{kind[:-1]}Iterator") or {}
            given |= {iterator["itemInput"]} if "itemInput" in iterator else set()
            known = set(declared.get(kind, {}))
            problems += [
                f"{where} passes undeclared {kind[:-1]} {n!r}" for n in sorted(given - known)
            ]
            required = {n for n, d in declared.get(kind, {}).items() if not d.get("isOptional")}
            problems += [
                f"{where} misses required {kind[:-1]} {n!r}" for n in sorted(required - given)
            ]
    return problems


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (source, target)
        for source in sorted(GOLDEN_SOURCES)
        for target in ("kubeflow-dev", "vertex-dev")
        if target.split("-")[0] not in REFUSED_ON.get(source, ())
    ],
)
def test_every_task_passes_what_its_component_declares(source: str, target: str) -> None:
    pipeline = load(str(GOLDEN_SOURCES[source])).build()
    chosen = profile(target)
    platform = get(chosen.platform)
    if any(d.severity == "error" for d in platform.check(pipeline, chosen)):
        pytest.skip(f"{source} is refused on {target} (covered by the refusal tests)")
    output = platform.compile(pipeline, chosen)
    spec = next(yaml.safe_load_all(output.files["pipeline.yaml"]))  # then platform config
    assert interface_problems(spec) == []
