"""The pull request job's own scripts, run with bash in a git clone: check, compile, compile
the target branch in a worktree, and post the diff as the job summary. What the workflow says
is what runs."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from mlcompile.cli.main import app
from tests.conftest import REPO

STEPS = (
    "Check every pipeline against every profile",
    "Compile every profile",
    "Compile the target branch",
    "Post the build diff as the job summary",
)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_pull_request_steps_run_and_post_the_diff(tmp_path: Path) -> None:
    origin, clone = tmp_path / "origin.git", tmp_path / "clone"
    seed = tmp_path / "seed"
    (seed / "examples").mkdir(parents=True)
    shutil.copytree(REPO / "examples" / "minimal", seed / "examples" / "minimal")
    (seed / "targets").mkdir()
    shutil.copy(REPO / "targets" / "kubeflow-dev.yaml", seed / "targets")
    _git(seed, "init", "-q", "-b", "main")
    _git(seed, "add", "-A")
    _git(seed, "commit", "-qm", "main")
    _git(tmp_path, "clone", "-q", "--bare", str(seed), str(origin))
    _git(tmp_path, "clone", "-q", str(origin), str(clone))
    _git(clone, "checkout", "-q", "-b", "change")
    pipeline = clone / "examples" / "minimal" / "pipeline.py"
    pipeline.write_text(
        pipeline.read_text().replace("start: int = 3) -> dict", "start: int = 5) -> dict")
    )
    _git(clone, "commit", "-qam", "a larger start")

    cwd = Path.cwd()
    os.chdir(clone)
    try:
        result = CliRunner().invoke(
            app,
            [
                "ci",
                "examples/minimal/pipeline.py",
                "--target",
                "kubeflow-dev",
                "--repository",
                "acme/m",
            ],
        )
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((clone / ".github/workflows/mlcompile-pull-request.yml").read_text())
    steps = {s["name"]: s for s in workflow["jobs"]["check"]["steps"]}

    # `mlcompile` on PATH runs this checkout's mlcompile with this Python.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "mlcompile"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m mlcompile "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    summary = tmp_path / "summary.md"
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_WORKSPACE": str(clone),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(runner_temp),
    }
    for name in STEPS:
        step_env = {
            k: v.replace("${{ github.base_ref }}", "main").replace(
                "${{ runner.temp }}", str(runner_temp)
            )
            for k, v in steps[name].get("env", {}).items()
        }
        run = subprocess.run(
            ["bash", "-e", "-c", steps[name]["run"]],
            cwd=clone,
            env=env | step_env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, f"{name}:\n{run.stdout}\n{run.stderr}"
    text = summary.read_text()
    assert text.startswith("## mlcompile build diff"), text
    assert "### `examples-minimal-pipeline/kubeflow-dev` (kubeflow)" in text
    assert "- parameter changed: `start`" in text
    assert (clone / "build/ci/base/examples-minimal-pipeline/kubeflow-dev/manifest.json").is_file()
