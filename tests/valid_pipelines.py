"""Shared by the tests of valid pipelines on each platform: a pipeline file written as a user
writes it, a build folder, and a run of the compiled files on this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from mlcompile.loader import load
from mlcompile.platforms import get
from tests.conftest import REPO, profile
from tests.kubeflow.kfp_checks import strict_parse

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


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def compile_for(path: Path, target: str) -> dict[str, bytes]:
    """The files the real compiler writes for the pipeline file and profile ``target``."""
    platform = profile(target).platform
    return get(platform).compile(load(str(path)).build(), profile(target)).files


def checked_spec(files: dict[str, bytes], tmp_path: Path) -> list[dict[str, Any]]:
    """The documents of pipeline.yaml after a strict protobuf parse and kfp's own loader."""
    from kfp.components import load_component_from_file

    path = tmp_path / "pipeline.yaml"
    path.write_bytes(files["pipeline.yaml"])
    docs = strict_parse(path)
    load_component_from_file(str(path))
    return docs


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``mlcompile ARGS`` from the repository, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, "-m", "mlcompile", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def emulate(path: Path, target: str, store: Path, *params: str) -> dict[str, Any]:
    """``mlcompile run PIPELINE --target TARGET``: the compiled files executed on this machine."""
    args = ["run", str(path), "--target", target, "--store", str(store), "--json"]
    for param in params:
        args += ["--param", param]
    done = cli(*args)
    assert done.returncode in (0, 1), done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def write_build(files: dict[str, bytes], build: Path) -> Path:
    for rel, data in files.items():
        (build / rel).parent.mkdir(parents=True, exist_ok=True)
        (build / rel).write_bytes(data)
    return build
