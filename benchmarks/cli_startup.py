"""Cold start of the CLI against importing each platform SDK, as ratios measured in one run.

Each command runs in a fresh interpreter several times; the table shows the median and its
ratio to `mlcompile --help`. Run: `python benchmarks/cli_startup.py` (or `make bench`).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 5
OFFLINE_AWS = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAGEMAKER_VALIDATE_ROLE": "false",
}


def timed(args: list[str], env: dict[str, str] | None = None) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(
            args, cwd=REPO, env={**os.environ, **(env or {})}, capture_output=True, check=True
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    cli = [sys.executable, "-m", "mlcompile"]
    churn = "examples/churn/pipeline.py"
    with tempfile.TemporaryDirectory() as out:
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("mlcompile --help", [*cli, "--help"], None),
            ("mlcompile check churn", [*cli, "check", churn], None),
            (
                "mlcompile check churn --target sagemaker-dev",
                [*cli, "check", churn, "-t", "sagemaker-dev"],
                None,
            ),
            (
                "mlcompile compile churn --target kubeflow-dev",
                [*cli, "compile", churn, "-t", "kubeflow-dev", "-o", out + "/k"],
                None,
            ),
            (
                "mlcompile compile churn --target sagemaker-dev",
                [*cli, "compile", churn, "-t", "sagemaker-dev", "-o", out + "/s"],
                None,
            ),
            (
                "import kfp dsl + compiler",
                [sys.executable, "-c", "from kfp import dsl, compiler"],
                None,
            ),
            (
                "import sagemaker.mlops.workflow.pipeline",
                [sys.executable, "-c", "import sagemaker.mlops.workflow.pipeline"],
                OFFLINE_AWS,
            ),
            (
                "import google.cloud.aiplatform",
                [sys.executable, "-c", "import google.cloud.aiplatform"],
                None,
            ),
        ]
        results = []
        for label, args, env in rows:
            try:
                results.append((label, timed(args, env)))
            except subprocess.CalledProcessError as err:
                results.append((label, float("nan")))
                print(f"{label}: failed ({err.returncode})", file=sys.stderr)
    base = dict(results)["mlcompile --help"]
    print(f"CLI cold start, median of {RUNS} fresh interpreters; ratio to `mlcompile --help`\n")
    print("| command | seconds | ratio |")
    print("| --- | ---: | ---: |")
    for label, seconds in results:
        print(f"| {label} | {seconds:.2f} | {seconds / base:.2f}x |")


if __name__ == "__main__":
    main()
