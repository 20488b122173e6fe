"""Per-step overhead of the embedded local runner, and of running each platform's compiled spec
locally (``run --target``), against kfp's local SubprocessRunner.

The same pipeline, a chain of N trivial steps (each adds one to its input), is written in kfp's
DSL and in mlcompile's, and each is run once with 1 step and once with N steps; the difference
divided by N - 1 is the cost of one more step, without the fixed start-up. Both run every step
in a fresh Python process and cache nothing. The ratio is measured in this one run.

    python benchmarks/local_runner.py [N]
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

KFP_SOURCE = """
from kfp import dsl


@dsl.component(install_kfp_package=False)
def add_one(x: int) -> int:
    return x + 1


def make(n: int):
    @dsl.pipeline(name="chain")
    def chain(start: int = 0) -> int:
        task = add_one(x=start)
        for _ in range(n - 1):
            task = add_one(x=task.output)
        return task.output

    return chain
"""

MLC_SOURCE = """
from mlcompile import pipeline, step


@step(cache=False)
def add_one(x: int) -> int:
    return x + 1


def make(n: int):
    @pipeline
    def chain(start: int = 0) -> dict:
        task = add_one(x=start)
        for _ in range(n - 1):
            task = add_one(x=task.output)
        return {"result": task.output}

    return chain
"""


def _module(folder: Path, name: str, source: str) -> ModuleType:
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def time_kfp(folder: Path, steps: int) -> float:
    from kfp import local

    module = _module(folder, "kfp_chain", KFP_SOURCE)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(folder / "kfp"))
    chain = module.make(steps)
    started = time.perf_counter()
    task = chain(start=0)
    elapsed = time.perf_counter() - started
    assert task.output == steps, task.output
    return elapsed


def time_mlcompile(folder: Path, steps: int) -> float:
    from mlcompile.local.runner import run_pipeline

    module = _module(folder, "mlc_chain", MLC_SOURCE)
    definition = module.make(steps)
    ir_pipeline = definition.build(folder)
    started = time.perf_counter()
    result = run_pipeline(
        ir_pipeline, {"start": 0}, root=folder, store=folder / f"store-{steps}", workers=2
    )
    elapsed = time.perf_counter() - started
    assert result.ok and result.outputs["result"] == steps, result.outputs
    return elapsed


REPO = Path(__file__).resolve().parents[1]


def _emulator(target: str):  # type: ignore[no-untyped-def]
    """A timer that compiles the chain for ``target`` (not timed) and runs the compiled spec."""

    def timer(folder: Path, steps: int) -> float:
        from mlcompile import platforms
        from mlcompile.build import json_bytes, manifest, write_atomic
        from mlcompile.emulate.run import execute_build
        from mlcompile.profiles import load_profile

        module = _module(folder, "mlc_chain", MLC_SOURCE)
        pipeline = module.make(steps).build(folder)
        profile, _ = load_profile(str(REPO / "targets" / f"{target}.yaml"))
        output = platforms.get(profile.platform).compile(pipeline, profile)
        files = dict(output.files)
        data = manifest(pipeline, profile, folder, output.spec, files, output.manifest_extra)
        build = folder / f"build-{target}-{steps}"
        write_atomic(build, {**files, "manifest.json": json_bytes(data)})
        store = folder / f"store-{target}-{steps}-{time.monotonic_ns()}"
        started = time.perf_counter()
        result = execute_build(build, data, {"start": 0}, store=store, root=folder, spec="chain")
        elapsed = time.perf_counter() - started
        assert result.ok and result.outputs["result"] == steps, (result.status, result.outputs)
        return elapsed

    return timer


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the runners' step logs (kfp's subprocesses write to our stdout) while timing."""
    sys.stdout.flush()
    saved = os.dup(1), os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, timer in (
            ("kfp SubprocessRunner", time_kfp),
            ("mlcompile local", time_mlcompile),
            ("run --target kubeflow-dev", _emulator("kubeflow-dev")),
            ("run --target vertex-dev", _emulator("vertex-dev")),
            ("run --target sagemaker-dev", _emulator("sagemaker-dev")),
        ):
            with _quiet():
                timer(folder, 1)  # warm the file system cache and imports
                one = timer(folder, 1)
                many = timer(folder, n)
            rows.append((name, one, many, (many - one) / (n - 1)))
    print(f"Chain of {n} trivial steps, sequential (each step reads the one before).\n")
    print(f"| runner | 1 step (s) | {n} steps (s) | per extra step (s) |")
    print("|---|---:|---:|---:|")
    for name, one, many, per_step in rows:
        print(f"| {name} | {one:.2f} | {many:.2f} | {per_step:.3f} |")
    kfp_step = rows[0][3]
    print()
    for name, _, _, per_step in rows[1:]:
        print(f"{name} per-step overhead / kfp per-step overhead: {per_step / kfp_step:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
