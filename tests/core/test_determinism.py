"""The IR is byte-identical whatever the hash seed, the working directory or the clone's place."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlcompile.ir.canonical import canonical_json, content_hash
from tests.conftest import EXAMPLES, REPO, build_example


def run_ir(example: str, cwd: Path, seed: str, repo: Path = REPO) -> bytes:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcompile.cli.main",
            "ir",
            str(repo / "examples" / example / "pipeline.py"),
        ],
        cwd=cwd,
        env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
    )
    return result.stdout


def test_ir_identical_across_hash_seeds_and_directories(tmp_path: Path) -> None:
    for example in EXAMPLES:
        first = run_ir(example, REPO, "1")
        assert first == run_ir(example, tmp_path, "2"), example
        assert first == run_ir(example, REPO / "examples", "random"), example


@pytest.mark.slow
def test_ir_identical_in_another_clone_location(tmp_path: Path) -> None:
    clone = tmp_path / "elsewhere" / "project"
    shutil.copytree(REPO / "examples", clone / "examples")
    (clone / "pyproject.toml").write_text("[project]\nname = 'copy'\n")
    assert run_ir("churn", tmp_path, "3", clone) == run_ir("churn", REPO, "4")


def test_canonical_json_is_sorted_compact_and_hash_stable() -> None:
    pipeline = build_example("churn")
    text = canonical_json(pipeline)
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert content_hash(pipeline) == content_hash(build_example("churn"))
    assert str(REPO) not in text, "absolute paths must not leak into the IR"


@pytest.mark.parametrize("example", EXAMPLES)
def test_ir_round_trips_through_json(example: str) -> None:
    from mlcompile.ir.nodes import Pipeline

    pipeline = build_example(example)
    again = Pipeline.model_validate_json(canonical_json(pipeline))
    assert again == pipeline and content_hash(again) == content_hash(pipeline)
