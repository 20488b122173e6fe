"""Valid pipelines that were refused or compiled wrongly for Vertex AI: each is compiled through
the real compiler, parsed strictly into kfp's protobufs (one document), its GCPC components'
inputs checked against GCPC's own interfaces, and executed by the KFP-IR emulator, which runs
GCPC's custom job launcher's payload as Vertex would."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlcompile.loader import load
from mlcompile.platforms.vertex.gcpc import COMPONENTS
from tests.kubeflow.test_valid_pipelines import LONG, LONG_NAMES
from tests.valid_pipelines import checked_spec, compile_for, emulate, write


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
