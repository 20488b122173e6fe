"""The SageMaker interpreter runs the compiled definition against S3 on a local moto server, with
each job seeing SageMaker's /opt/ml contract; a broken definition fails naming the step and why."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlcompile.cli.commands import compile_to
from mlcompile.emulate.run import execute_build
from mlcompile.local.runner import RunResult
from tests.emulate.test_kfp_ir import REPO


def _build(tmp_path: Path) -> tuple[Path, dict[str, Any], Path]:
    os.chdir(REPO)
    _, _, root, build, manifest = compile_to(
        "examples/minimal/pipeline.py", "sagemaker-dev", tmp_path / "build"
    )
    return build, manifest, root


def _run(tmp_path: Path, change: Any = None) -> RunResult:
    build, manifest, root = _build(tmp_path)
    path = build / manifest["spec"]
    definition = json.loads(path.read_text(encoding="utf-8"))
    if change is not None:
        change(definition)
    path.write_text(json.dumps(definition), encoding="utf-8")
    return execute_build(build, manifest, {}, store=tmp_path / "store", root=root, spec="minimal")


def _square(definition: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in definition["Steps"] if s["Name"] == "square")
    return step


def test_a_json_get_path_absent_from_the_property_file_fails_the_step(tmp_path: Path) -> None:
    def wrong_path(definition: dict[str, Any]) -> None:
        args = _square(definition)["Arguments"]["AppSpecification"]["ContainerArguments"]
        join = next(a for a in args if isinstance(a, dict))
        join["Std:Join"]["Values"][0]["Std:JsonGet"]["Path"] = "outptu"

    result = _run(tmp_path, wrong_path)
    square = result.step("square")
    assert result.status == "failed" and square.status == "failed"
    assert "'square'" in square.message and "path 'outptu' is absent" in square.message
    assert "of step 'produce'" in square.message


def test_a_get_of_an_output_that_does_not_exist_fails_the_step(tmp_path: Path) -> None:
    def wrong_output(definition: dict[str, Any]) -> None:
        args = _square(definition)["Arguments"]["AppSpecification"]["ContainerArguments"]
        args.append({"Get": "Steps.produce.ProcessingOutputConfig.Outputs['model'].S3Output.S3Uri"})

    square = _run(tmp_path, wrong_output).step("square")
    assert square.status == "failed"
    assert "Outputs['model']" in square.message and "has no such property" in square.message


def test_a_condition_comparing_a_string_with_a_float_fails_the_step(tmp_path: Path) -> None:
    def string_vs_float(definition: dict[str, Any]) -> None:
        definition["Parameters"] += [
            {"Name": "label", "Type": "String", "DefaultValue": "0.5"},
            {"Name": "threshold", "Type": "Float", "DefaultValue": 0.5},
        ]
        square = _square(definition)
        definition["Steps"].remove(square)
        definition["Steps"].append(
            {
                "Name": "gate",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "GreaterThanOrEqualTo",
                            "LeftValue": {"Get": "Parameters.label"},
                            "RightValue": {"Get": "Parameters.threshold"},
                        }
                    ],
                    "IfSteps": [square],
                    "ElseSteps": [],
                },
            }
        )

    result = _run(tmp_path, string_vs_float)
    gate = result.step("gate")
    assert gate.status == "failed"
    assert "compares String" in gate.message and "with Float 0.5" in gate.message
    assert result.step("square").status == "upstream_failed"


def test_a_scikit_learn_model_without_a_serving_script_fails_the_transform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SageMaker's scikit-learn serving container has no default model_fn: a model container
    without SAGEMAKER_PROGRAM cannot serve, and the run says so at the transform."""
    monkeypatch.setenv("MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN", "placeholder-for-tests")
    os.chdir(REPO)
    _, _, root, build, manifest = compile_to(
        "examples/churn/pipeline.py", "sagemaker-dev", tmp_path / "build"
    )
    path = build / manifest["spec"]
    definition = json.loads(path.read_text(encoding="utf-8"))
    model = _find(definition["Steps"], "batch_predict-model")
    del model["Arguments"]["PrimaryContainer"]["Environment"]
    path.write_text(json.dumps(definition), encoding="utf-8")
    result = execute_build(build, manifest, {}, store=tmp_path / "store", root=root, spec="churn")
    transform = result.step("batch_predict")
    assert transform.status == "failed"
    assert "no default model_fn" in transform.message and "SAGEMAKER_PROGRAM" in transform.message


def _find(steps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """A step by name, inside conditions too."""
    for step in steps:
        if step["Name"] == name:
            return step
        branches = step.get("Arguments", {})
        for key in ("IfSteps", "ElseSteps"):
            found = _find(branches.get(key, []), name) if branches.get(key) else None
            if found:
                return found
    return {}


def test_cached_steps_are_reused_with_their_objects_put_back(tmp_path: Path) -> None:
    """CacheConfig: a second run reuses both jobs, though its S3 starts empty, and the reused
    `produce`'s property file (read by `square`'s arguments) is where the first run wrote it;
    a changed parameter changes `produce`'s key and the value `square` reads, so both run."""
    build, manifest, root = _build(tmp_path)

    def run(params: dict[str, Any]) -> RunResult:
        store = tmp_path / "store"
        return execute_build(build, manifest, params, store=store, root=root, spec="minimal")

    first = run({})
    again = run({})
    assert first.ok and again.ok and again.outputs == first.outputs == {"squared": 9}
    for name in ("produce", "square"):
        step = again.step(name)
        assert step.cached_from == first.run_id and step.attempts == 0, step
    changed = run({"start": 4})
    assert changed.outputs == {"squared": 16}
    assert all(changed.step(n).cached_from is None for n in ("produce", "square"))


def test_expire_after_durations() -> None:
    from mlcompile.emulate.sagemaker_cache import expire_after_seconds

    assert expire_after_seconds("P30D") == 30 * 86400
    assert expire_after_seconds("PT1H") == 3600
    assert expire_after_seconds("T16m") == 16 * 60  # the form the documentation shows
    assert expire_after_seconds("30dT5h") == 30 * 86400 + 5 * 3600
    assert expire_after_seconds(None) is None
    with pytest.raises(ValueError, match="ISO 8601"):
        expire_after_seconds("soon")
