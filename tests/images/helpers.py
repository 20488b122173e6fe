"""Small pipelines and profiles for the image tests."""

from __future__ import annotations

from pathlib import Path

from mlcompile.ir import nodes as ir
from mlcompile.loader import load
from mlcompile.profiles import Profile, parse_profile

PIPELINE = """
from mlcompile import Dataset, Input, Output, pipeline, step


@step(packages=["six==1.16.0"])
def make(n: int, data: Output[Dataset]) -> int:
    with open(data.path, "w") as f:
        f.write(str(n))
    return n


@step
def report(data: Input[Dataset]) -> str:
    with open(data.path) as f:
        return f.read()


@pipeline
def two_envs(n: int = 3) -> None:
    made = make(n=n)
    report(data=made.data)
"""


def two_environment_pipeline(folder: Path) -> ir.Pipeline:
    path = folder / "pipeline.py"
    path.write_text(PIPELINE)
    return load(str(path)).build()


def make_profile(text: str, name: str = "images-test") -> Profile:
    return parse_profile(text, Path(f"{name}.yaml"))
