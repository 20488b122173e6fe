"""`mlcompile run --target` runs each job of the compiled file inside the step's image when this
machine has it: the image is built from a local base (no registry pull), pushed to a registry on
127.0.0.1, and every platform's emulator runs its jobs there, with the image's Python, not this
venv's. The lineage keeps the digest each step ran in."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

PIPELINE = '''
import sys

from mlcompile import Dataset, Input, Output, pipeline, step


@step
def make(n: int, data: Output[Dataset]) -> str:
    """Write the numbers below n; say which Python ran this."""
    with open(data.path, "w") as f:
        f.write("\\n".join(str(i) for i in range(n)))
    return sys.prefix


@step
def total(data: Input[Dataset], scale: int = 1) -> int:
    """Sum the numbers, times scale."""
    with open(data.path) as f:
        return sum(int(x) for x in f.read().split()) * scale


@pipeline
def sums(n: int = 5, scale: int = 3) -> dict:
    made = make(n=n)
    return {"python": made.output, "total": total(data=made.data, scale=scale).output}
'''

#: One profile per platform, each building its images locally into the registry on loopback.
PROFILES = {
    "sagemaker": 'platform: sagemaker\ncloud: aws\nregion: eu-west-1\naccount: "111122223333"\n',
    "kubeflow": 'platform: kubeflow\ncloud: aws\nregion: eu-west-1\naccount: "111122223333"\n'
    "kubeflow:\n  namespace: ml-dev\n",
    "vertex": "platform: vertex\ncloud: gcp\nregion: europe-west4\naccount: mlc-dev-project\n",
}


def _mlcompile(cwd: Path, *args: str, check: bool = True) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "mlcompile", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=900,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _steps(store: Path, run_id: str) -> dict[str, sqlite3.Row]:
    with sqlite3.connect(store / "lineage.db") as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM steps WHERE run_id = ?", (run_id,)).fetchall()
    return {row["name"]: row for row in rows}


@pytest.mark.parametrize("platform", sorted(PROFILES))
def test_jobs_run_in_their_images(
    platform: str, tmp_path: Path, registry: str, base_image: str, container_env: dict[str, str]
) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    (tmp_path / "targets").mkdir()
    profile = f"{platform}-images"
    (tmp_path / "targets" / f"{profile}.yaml").write_text(
        PROFILES[platform] + "environment: dev\nimages:\n  builder: local\n"
        f"  registry: {registry}/mlc-dev-{platform}\n  tls_verify: false\n  base: {base_image}\n"
    )
    [image] = _mlcompile(tmp_path, "images", "pipeline.py", "-t", profile)["images"]
    reference = image["image"]

    ran = _mlcompile(tmp_path, "run", "pipeline.py", "-t", profile)
    assert ran["status"] == "succeeded", ran
    assert ran["outputs"]["total"] == 30
    # The base image's interpreter, not this venv's: the job ran in the image.
    assert ran["outputs"]["python"] == "/usr" != sys.prefix
    steps = _steps(tmp_path / ".mlcompile", ran["run_id"])
    function_steps = {name for name in steps if name in ("make", "total")}
    assert function_steps == {"make", "total"}
    for name in function_steps:
        assert steps[name]["image"] == reference, (name, dict(steps[name]))

    # `never` runs the same compiled file on this machine's Python, and records no image (in
    # a store of its own: the first run's cache would serve it otherwise).
    never = ["--containers", "never", "--store", "host-store"]
    host = _mlcompile(tmp_path, "run", "pipeline.py", "-t", profile, *never)
    assert host["status"] == "succeeded" and host["outputs"]["total"] == 30
    assert host["outputs"]["python"] == sys.prefix
    host_steps = _steps(tmp_path / "host-store", host["run_id"]).values()
    assert all(row["image"] is None for row in host_steps)


def test_require_fails_a_job_whose_image_is_not_here(
    tmp_path: Path, container_env: dict[str, str]
) -> None:
    """The default Kubeflow image is not in this machine's storage: `require` fails the job,
    naming the image, instead of running it on the host."""
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "kf.yaml").write_text(PROFILES["kubeflow"] + "environment: dev\n")
    ran = _mlcompile(
        tmp_path, "run", "pipeline.py", "-t", "kf", "--containers", "require", check=False
    )
    assert ran["status"] == "failed"
    failed = {s["name"]: s for s in ran["steps"] if s["status"] == "failed"}
    assert "make" in failed and "cannot run here" in failed["make"]["message"]
    assert "python:3.11-slim" in failed["make"]["message"]


def test_bad_mode_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    result = subprocess.run(
        [sys.executable, "-m", "mlcompile", "run", "pipeline.py", "-t", "x", "--containers", "yes"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "MLC702" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / ".mlcompile").exists()


IMAGE_PIPELINE = '''
from mlcompile import Command, Output, container_step, pipeline, step

SAY = "import sys; open(sys.argv[1], 'w').write(sys.prefix)"


@container_step(image="registry.invalid/not-this-one:1")
def where(prefix: Output[str]) -> Command:
    """Say which Python ran this."""
    return Command(command=["python3", "-c", SAY], args=[prefix.path])


@step
def said(prefix: str) -> str:
    """Pass the value on (SageMaker reads a container's output values in a Python step)."""
    return prefix


@pipeline
def chosen(image: str = "registry.invalid/nor-this:1") -> str:
    return said(prefix=where().with_options(image=image).prefix).output
'''


@pytest.mark.parametrize("platform", sorted(PROFILES))
def test_a_container_step_runs_in_the_image_the_run_names(
    platform: str, tmp_path: Path, base_image: str, container_env: dict[str, str]
) -> None:
    """The image parameter reaches the job: the compiled spec names the parameter, not an
    image, and the container step runs in the image the run passes (the Python step's default
    image is not on this machine: it runs on the host)."""
    (tmp_path / "pipeline.py").write_text(IMAGE_PIPELINE)
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "p.yaml").write_text(PROFILES[platform] + "environment: dev\n")
    ran = _mlcompile(tmp_path, "run", "pipeline.py", "-t", "p", "-p", f"image={base_image}")
    assert ran["status"] == "succeeded", ran
    assert ran["outputs"]["output"] == "/usr" != sys.prefix
    images = {n: r["image"] for n, r in _steps(tmp_path / ".mlcompile", ran["run_id"]).items()}
    assert images["where"] == base_image and images["said"] is None, images
