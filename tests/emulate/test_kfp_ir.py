"""The KFP IR executor runs what the Kubeflow and Vertex compilers wrote, with the platform's
semantics, and agrees with the embedded runner; a broken spec fails naming the task and why."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from mlcompile.cli.commands import compile_to
from mlcompile.emulate.run import execute_build
from mlcompile.local.runner import RunResult

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, cwd: Path = REPO) -> dict[str, Any]:
    env = {
        **os.environ,
        "MLCOMPILE_SECRET_WAREHOUSE_TOKEN": "placeholder-for-tests",
        "MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN": "placeholder-for-tests",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mlcompile", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _build(tmp_path: Path, target: str = "kubeflow-dev") -> tuple[Path, dict[str, Any], Path]:
    os.chdir(REPO)
    _, _, root, build, manifest = compile_to(
        "examples/minimal/pipeline.py", target, tmp_path / "build"
    )
    return build, manifest, root


def _run(tmp_path: Path, build: Path, manifest: dict[str, Any], root: Path) -> RunResult:
    return execute_build(build, manifest, {}, store=tmp_path / "store", root=root, spec="minimal")


def _edit(build: Path, manifest: dict[str, Any], change: Any) -> None:
    path = build / manifest["spec"]
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    change(docs[0])
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")


def test_a_reference_to_an_output_that_does_not_exist_fails_naming_the_task(
    tmp_path: Path,
) -> None:
    build, manifest, root = _build(tmp_path)

    def wrong_output(spec: dict[str, Any]) -> None:
        ref = spec["root"]["dag"]["tasks"]["square"]["inputs"]["parameters"]["value"]
        ref["taskOutputParameter"]["outputParameterKey"] = "Outptu"

    _edit(build, manifest, wrong_output)
    result = _run(tmp_path, build, manifest, root)
    assert result.status == "failed"
    square = result.step("square")
    assert square.status == "failed"
    assert "'square'" in square.message and "'Outptu' of 'produce'" in square.message


def test_a_condition_comparing_a_string_with_a_number_fails_as_cel_does(tmp_path: Path) -> None:
    build, manifest, root = _build(tmp_path)

    def string_condition(spec: dict[str, Any]) -> None:
        task = spec["root"]["dag"]["tasks"]["square"]
        task["triggerPolicy"] = {"condition": "inputs.parameter_values['value'] > '2'"}

    _edit(build, manifest, string_condition)
    result = _run(tmp_path, build, manifest, root)
    square = result.step("square")
    assert square.status == "failed"
    assert "no such overload: number > string" in square.message


def test_retries_follow_the_retry_policy_and_a_false_condition_skips(tmp_path: Path) -> None:
    build, manifest, root = _build(tmp_path)

    def policy(spec: dict[str, Any]) -> None:
        tasks = spec["root"]["dag"]["tasks"]
        tasks["square"]["triggerPolicy"] = {"condition": "inputs.parameter_values['value'] > 5"}
        executor = spec["deploymentSpec"]["executors"]["exec-produce"]["container"]
        executor["command"] = ["sh", "-c", "exit 3"]
        executor["args"] = []
        tasks["produce"]["retryPolicy"] = {"maxRetryCount": 2, "backoffDuration": "0s"}

    _edit(build, manifest, policy)
    result = _run(tmp_path, build, manifest, root)
    produce = result.step("produce")
    assert produce.status == "failed" and produce.attempts == 3
    assert "exited with code 3" in produce.message
    assert result.step("square").status == "upstream_failed"


def test_the_readme_lists_the_divergences_the_tests_allow() -> None:
    from mlcompile.emulate.divergences import markdown

    text = (REPO / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- divergences:start -->\n", "\n<!-- divergences:end -->"
    assert text.split(start, 1)[1].split(end, 1)[0] == markdown()
