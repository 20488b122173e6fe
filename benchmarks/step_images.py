"""Step images for churn: producing the build contexts, and what an unchanged rebuild costs.

Measured in one run, in process: the contexts with an empty lock cache (uv resolves each
environment's packages once), the same with the lock cached, and `build_images` for an
environment whose tag the registry already has (the builder is asked only for a lookup; it
counts build calls, which must stay zero). Run: `python benchmarks/step_images.py`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from mlcompile.images.command import build_images, plan
from mlcompile.images.context import BuildContext
from mlcompile.loader import load
from mlcompile.profiles import load_profile

REPO = Path(__file__).resolve().parent.parent
RUNS = 5


class FoundInRegistry:
    """A builder whose registry already holds every tag: what an unchanged rebuild meets."""

    name = "lookup-only"

    def __init__(self) -> None:
        self.lookups = 0
        self.builds = 0

    def lookup(self, repository: str, tag: str) -> str | None:
        self.lookups += 1
        return "sha256:" + tag

    def build(self, context: BuildContext, repository: str) -> str:
        self.builds += 1
        raise AssertionError("an unchanged environment was built")


def main() -> None:
    pipeline = load(str(REPO / "examples" / "churn" / "pipeline.py")).build()
    profile, _ = load_profile("sagemaker-dev", REPO / "targets")
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["MLCOMPILE_CACHE"] = str(Path(scratch) / "cache")
        start = time.perf_counter()
        planned = plan(pipeline, profile)
        cold = time.perf_counter() - start
        warm_samples, rebuild_samples = [], []
        builder = FoundInRegistry()
        for run in range(RUNS):
            start = time.perf_counter()
            plan(pipeline, profile)
            warm_samples.append(time.perf_counter() - start)
            start = time.perf_counter()
            build_images(pipeline, profile, Path(scratch) / f"images-{run}", builder=builder)
            rebuild_samples.append(time.perf_counter() - start)
    warm, rebuild = statistics.median(warm_samples), statistics.median(rebuild_samples)
    assert builder.builds == 0 and builder.lookups == RUNS * len(planned.contexts)
    print(
        f"churn: {len(planned.contexts)} environment(s) for 4 steps; median of {RUNS} runs; "
        "ratio to the first (cold) contexts\n"
    )
    print("| measurement | seconds | ratio |")
    print("| --- | ---: | ---: |")
    print(f"| build contexts, lock cache empty (uv resolves) | {cold:.3f} | 1.00 |")
    print(f"| build contexts, lock cached | {warm:.3f} | {warm / cold:.3f} |")
    print(
        f"| unchanged rebuild: contexts + a lookup per environment, 0 builds | {rebuild:.3f} "
        f"| {rebuild / cold:.3f} |"
    )


if __name__ == "__main__":
    main()
