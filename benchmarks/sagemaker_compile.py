"""SageMaker compile cost, as ratios measured in one run.

Rows: a cold ``mlcompile compile`` of the churn example (a new process, as a user runs it),
a bare import of the SageMaker SDK's pipeline module (what compiling through the SDK would pay
before building a single step), and in-process compiles of chains of 10, 100 and 1000 steps.
Ratios are against the cold churn compile. Run: ``python benchmarks/sagemaker_compile.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: The SDK reaches AWS at import without a region and credentials; these keep it offline.
OFFLINE = {
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "SAGEMAKER_VALIDATE_ROLE": "false",
    "AWS_EC2_METADATA_DISABLED": "true",
}
CHAIN = '''
from mlcompile import pipeline, step


@step
def inc(x: int) -> int:
    """Add one."""
    return x + 1


@pipeline
def chain(start: int = 0) -> None:
    """A chain of {n} steps."""
    value = inc(x=start)
    for _ in range({n} - 1):
        value = inc(x=value.output)
'''


def _process(args: list[str], env: dict[str, str] | None = None, repeat: int = 3) -> float:
    """The best wall time of ``repeat`` runs of a new Python process."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, *args],
            cwd=REPO,
            env={**os.environ, **(env or {})},
            check=True,
            capture_output=True,
        )
        best = min(best, time.perf_counter() - start)
    return best


def _chain_compile(n: int, folder: Path) -> float:
    from mlcompile.loader import load
    from mlcompile.platforms.sagemaker import SageMakerPlatform
    from mlcompile.profiles import load_profile

    source = folder / f"chain_{n}.py"
    source.write_text(CHAIN.replace("{n}", str(n)))
    pipeline = load(str(source)).build()
    profile = load_profile("sagemaker-dev", REPO / "targets")[0]
    SageMakerPlatform().compile(pipeline, profile)  # warm: botocore's model is loaded once
    start = time.perf_counter()
    output = SageMakerPlatform().compile(pipeline, profile)
    elapsed = time.perf_counter() - start
    assert output.files
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        compile_args = ["-m", "mlcompile.cli.main", "compile", "examples/churn/pipeline.py"]
        compile_args += ["--target", "sagemaker-dev", "--out", str(folder / "churn")]
        cold = _process(compile_args)
        sdk = _process(["-c", "import sagemaker.mlops.workflow.pipeline"], OFFLINE, repeat=2)
        rows = [
            ("cold `mlcompile compile` churn (10 steps, new process)", cold),
            ("`import sagemaker.mlops.workflow.pipeline` (SDK import only)", sdk),
        ]
        for n in (10, 100, 1000):
            rows.append((f"compile a {n}-step chain (in process)", _chain_compile(n, folder)))
    print("| measurement | seconds | ratio to cold churn compile |")
    print("|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} | {seconds / cold:.2f} |")
    per_step = rows[-1][1] / 1000
    print(f"\n1000-step chain: {per_step * 1000:.2f} ms per step.")


if __name__ == "__main__":
    main()
