"""Running a test pipeline into a store, as the CLI would, with retry waits shrunk."""

from __future__ import annotations

from pathlib import Path

from mlcompile.loader import load
from mlcompile.local.runner import RunResult, run_pipeline
from mlcompile.params import parse_params

PIPELINES = Path(__file__).resolve().parent / "pipelines.py"
REPO = Path(__file__).resolve().parents[2]


def run(spec: str, store: Path, *params: str, workers: int = 2) -> RunResult:
    """Run ``pipelines.py:<name>`` (or any spec) with ``NAME=VALUE`` params; retries wait 1%."""
    if ".py" not in spec:
        spec = f"{PIPELINES}:{spec}"
    loaded = load(spec)
    pipeline = loaded.build()
    return run_pipeline(
        pipeline,
        parse_params(pipeline, list(params)),
        root=loaded.root,
        store=store,
        spec=spec,
        workers=workers,
        backoff_scale=0.01,
    )
