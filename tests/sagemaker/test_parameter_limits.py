"""A pipeline SageMaker would refuse to start is refused when it is compiled, at its line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import botocore.session

from mlcompile.platforms.sagemaker.emit import MAX_PARAMETER_VALUE, MAX_PARAMETERS

REPO = Path(__file__).resolve().parents[2]


def test_the_limits_are_start_pipeline_executions() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("StartPipelineExecution").input_shape
    parameters = shape.members["PipelineParameters"]
    assert parameters.metadata["max"] == MAX_PARAMETERS
    assert parameters.member.members["Value"].metadata["max"] == MAX_PARAMETER_VALUE


def _compile(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "wide.py").write_text(source)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcompile",
            "compile",
            "wide.py",
            "--json",
            "--target",
            str(REPO / "targets" / "sagemaker-dev.yaml"),
            "--out",
            "build",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_too_many_parameters_or_a_too_long_default_is_refused_at_the_pipeline(
    tmp_path: Path,
) -> None:
    names = ", ".join(f"p{i}: int = {i}" for i in range(201))
    source = (
        "from mlcompile import pipeline, step\n\n\n@step\ndef one(x: int) -> int:\n"
        "    return x\n\n\n@pipeline\n"
        f"def wide({names}, note: str = {'x' * 1100!r}) -> None:\n    one(x=p0)\n"
    )
    done = _compile(tmp_path, source)
    assert done.returncode == 2, done.stdout + done.stderr
    problems = [d for d in json.loads(done.stdout)["diagnostics"] if d["code"] == "MLC406"]
    messages = sorted((p["message"] for p in problems), key=lambda m: "parameters;" in m)
    assert len(messages) == 2
    assert "1100 characters" in messages[0] and "202 parameters" in messages[1]
    line = source.splitlines().index("@pipeline") + 1
    assert all(p["file"] == "wide.py" and p["line"] == line for p in problems)
    assert not (tmp_path / "build").exists()
