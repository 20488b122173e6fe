"""Vertex compile cost, as ratios measured in one run.

Rows, each a new Python process (as a user or CI runs it), best of three:
- ``mlcompile compile`` of the churn example for vertex-dev (no aiplatform, no GCPC import);
- a bare ``import google.cloud.aiplatform`` (what compiling through the SDK pays first);
- a bare import of the GCPC v1 components mlcompile writes from its own table;
- the same compile followed by building ``aiplatform.PipelineJob`` from its files and taking
  ``to_dict()`` (what a compile that went through aiplatform for the request would cost).

Ratios are against the cold mlcompile compile. Run: ``python benchmarks/vertex_compile.py``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_THROUGH_AIPLATFORM = """
import json, sys
from mlcompile.cli.main import main
out = sys.argv[1]
sys.argv = ["mlcompile", "compile", "examples/churn/pipeline.py", "--target", "vertex-dev",
            "--out", out]
try:
    main()
except SystemExit:
    pass
from google.auth.credentials import AnonymousCredentials
from google.cloud import aiplatform
request = json.load(open(out + "/pipeline_job.json"))
aiplatform.PipelineJob(
    display_name=request["displayName"], template_path=out + "/pipeline.yaml",
    pipeline_root=request["runtimeConfig"]["gcsOutputDirectory"],
    parameter_values=request["runtimeConfig"]["parameterValues"], labels=request["labels"],
    encryption_spec_key_name=request["encryptionSpec"]["kmsKeyName"],
    project="mlc-dev-project", location="europe-west4", credentials=AnonymousCredentials(),
).to_dict()
"""
_GCPC = (
    "from google_cloud_pipeline_components.v1 import custom_job, model, endpoint, batch_predict_job"
)


def _process(args: list[str], repeat: int = 3) -> float:
    """The best wall time of ``repeat`` runs of a new Python process."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=REPO, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "out")
        compile_args = ["-m", "mlcompile.cli.main", "compile", "examples/churn/pipeline.py"]
        rows = [
            (
                "cold `mlcompile compile churn --target vertex-dev`",
                _process([*compile_args, "--target", "vertex-dev", "--out", out]),
            ),
            (
                '`python -c "import google.cloud.aiplatform"`',
                _process(["-c", "import google.cloud.aiplatform"]),
            ),
            ("import of the GCPC v1 components used", _process(["-c", _GCPC])),
            (
                "compile, then `aiplatform.PipelineJob(...).to_dict()`",
                _process(["-c", _THROUGH_AIPLATFORM, out]),
            ),
        ]
    base = rows[0][1]
    print("| Vertex compile (churn) | seconds | ratio to mlcompile |")
    print("|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {seconds / base:.1f}x |")


if __name__ == "__main__":
    main()
