"""Builds of a small pipeline that differ in one thing each, compiled in a project of their
own, and the offline linters the generated workflows must pass."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlcompile.cli.main import app
from tests.conftest import REPO

#: The pipeline every variant is made from; each placeholder is one thing a variant changes.
TEMPLATE = '''"""A pipeline the build diff tests vary one thing at a time."""

from mlcompile import Resources, Retry, pipeline, step, when


@step(image="{image}", resources=Resources(cpu={cpu}, memory="1Gi"), retries=Retry(count={retries}), cache={cache})
def produce(start: int) -> int:
    return start


@step(image="{image}")
def square(value: int) -> int:
    return value * value
{extra_step}

@pipeline{schedule}
def tiny(start: int = {default}) -> dict:
    first = produce(start=start)
    with when(first.output > {threshold}):
        square(value=first.output)
    {extra_call}
    return {{"start": first.output}}
'''
DIGEST_A = "a" * 64
DIGEST_B = "b" * 64
BASE = {
    "image": f"111122223333.dkr.ecr.eu-west-1.amazonaws.com/mlc-dev-steps@sha256:{DIGEST_A}",
    "cpu": "1",
    "retries": "1",
    "cache": "True",
    "default": "3",
    "threshold": "2",
    "extra_step": "",
    "extra_call": "",
    "schedule": "",
}
EXTRA_STEP = """

@step(image="{image}")
def report(value: int) -> int:
    return value
"""
PROFILES = ("kubeflow-dev", "sagemaker-dev")


def compile_variant(
    root: Path,
    name: str,
    profiles: tuple[str, ...] = PROFILES,
    profile_extra: str = "",
    **changes: str,
) -> Path:
    """Compile the template with ``changes`` for ``profiles`` (each with ``profile_extra``
    appended to its YAML) into ``root/name/<profile>/``, with each profile's generated stack;
    returns ``root/name``."""
    values = BASE | changes
    values["extra_step"] = values["extra_step"].format(image=values["image"])
    project = root / f"project-{name}"
    (project / "targets").mkdir(parents=True)
    for profile in profiles:
        text = (REPO / "targets" / f"{profile}.yaml").read_text(encoding="utf-8")
        (project / "targets" / f"{profile}.yaml").write_text(text + profile_extra)
    (project / "pipeline.py").write_text(TEMPLATE.format(**values))
    out = root / name
    cwd = Path.cwd()
    os.chdir(project)
    try:
        for profile in profiles:
            for command, folder in (("compile", out / profile), ("infra", out / profile / "infra")):
                result = CliRunner().invoke(
                    app, [command, "pipeline.py", "--target", profile, "--out", str(folder)]
                )
                assert result.exit_code == 0, result.output
    finally:
        os.chdir(cwd)
    return out


def tool(name: str) -> str:
    """The path of a linter installed beside this Python; skipped only outside CI."""
    import sys

    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (pip install {name})")
        pytest.skip(f"{name} is not installed")
    return found
