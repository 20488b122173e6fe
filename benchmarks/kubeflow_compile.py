"""Compile time to Kubeflow against kfp's own DSL and compiler, on the same DAGs, in one run.

Shapes: a chain (each step reads the previous output) and a fan-out (every step reads one
producer), at 10, 100 and 1000 steps. mlcompile's time covers building the IR from the pipeline
file and writing the YAML; kfp's covers building the pipeline in its DSL and compiling it.
Prints a markdown table of ratios (mlcompile / kfp; below 1 means mlcompile is faster).
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZES = (10, 100, 1000)
SHAPES = ("chain", "fan-out")

OURS = '''
from mlcompile import pipeline, step


@step
def inc(x: int) -> int:
    """Add one."""
    return x + 1


@pipeline
def bench(start: int = 0) -> None:
    """{shape} of {n} steps."""
    first = inc(x=start)
    previous = first
    for _ in range({n} - 1):
        previous = inc(x=(previous if "{shape}" == "chain" else first).output)
'''

THEIRS = '''
from kfp import dsl


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def inc(x: int) -> int:
    """Add one."""
    return x + 1


def make(n: int, shape: str):
    @dsl.pipeline(name="bench")
    def bench(start: int = 0) -> None:
        first = inc(x=start)
        previous = first
        for _ in range(n - 1):
            previous = inc(x=(previous if shape == "chain" else first).output)

    return bench
'''


def _import(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    from kfp import compiler

    from mlcompile.loader import load
    from mlcompile.platforms import get
    from mlcompile.profiles import load_profile

    repo = Path(__file__).resolve().parent.parent
    profile = load_profile("kubeflow-dev", repo / "targets")[0]
    platform = get("kubeflow")
    work = Path(tempfile.mkdtemp(prefix="mlc-bench-"))
    theirs = work / "theirs.py"
    theirs.write_text(THEIRS)
    kfp_module = _import(theirs, "bench_kfp")
    rows = []
    for shape in SHAPES:
        for n in SIZES:
            ours = work / f"{shape}_{n}.py"
            ours.write_text(OURS.format(n=n, shape=shape))
            repeat = 3 if n < 1000 else 1

            def mine(path: Path = ours) -> None:
                platform.compile(load(str(path)).build(), profile)

            def kfp(n: int = n, shape: str = shape) -> None:
                compiler.Compiler().compile(kfp_module.make(n, shape), str(work / "kfp.yaml"))

            mine()  # warm the import caches
            kfp()
            a, b = _best(mine, repeat), _best(kfp, repeat)
            rows.append((shape, n, a, b))
    print("| shape | steps | mlcompile s | kfp s | ratio |")
    print("|---|---:|---:|---:|---:|")
    for shape, n, a, b in rows:
        print(f"| {shape} | {n} | {a:.3f} | {b:.3f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()
