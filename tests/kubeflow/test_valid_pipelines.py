"""Valid pipelines that were refused or compiled wrongly for Kubeflow: each is compiled through
the real compiler, parsed strictly into kfp's protobufs, loaded by kfp, and executed by the
KFP-IR emulator (and, where the step is plain Python, by kfp's own local runner)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcompile.loader import load
from tests.kubeflow.runner_venv import run_spec
from tests.valid_pipelines import checked_spec, compile_for, emulate, write, write_build

#: A step whose name is exactly the 64-character limit, called twice.
LONG = "s" + "a" * 63
LONG_NAMES = f"""
from mlcompile import pipeline, step


@step
def {LONG}(n: int) -> int:
    return n + 1


@pipeline
def long_names(n: int = 1) -> int:
    first = {LONG}(n=n)
    return {LONG}(n=first)
"""


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
