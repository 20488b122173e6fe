"""A generated pipeline of 1000 different steps in one file, compiled for every platform.

Each step is its own function, so the file is large (about 190 KB) and every step's code closure
is that whole file: a spec that embedded the closure per step would grow with steps x file size.
The step code travels as one content-addressed bundle instead, so each spec grows linearly with
the steps. Prints, in one run, the time and spec size per platform at 100 and 1000 steps (the
spec files, not the bundle; Vertex writes the spec twice: the template and the job request), the
size per step, and the ratios 1000/100 (10 means linear).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

SIZES = (100, 1000)
PLATFORMS = (("kubeflow", "kubeflow-dev"), ("sagemaker", "sagemaker-dev"), ("vertex", "vertex-dev"))


def source(n: int) -> str:
    lines = ['"""A chain of generated steps."""', "", "from mlcompile import pipeline, step", ""]
    for i in range(n):
        lines += [
            "",
            "@step",
            f"def step_{i}(x: int) -> int:",
            f'    """Step {i}: add {i % 7} and keep the value small."""',
            f"    value = x + {i % 7}",
            "    if value > 1000:",
            "        value = value % 1000",
            "    return value",
            "",
        ]
    lines += ["", "@pipeline", "def many(start: int = 0) -> dict:", '    """Chain."""']
    lines.append("    value = step_0(x=start)")
    for i in range(1, n):
        lines.append(f"    value = step_{i}(x=value.output)")
    lines.append('    return {"last": value.output}')
    return "\n".join(lines) + "\n"


def main() -> None:
    from mlcompile.loader import load
    from mlcompile.platforms import get
    from mlcompile.profiles import load_profile

    repo = Path(__file__).resolve().parent.parent
    work = Path(tempfile.mkdtemp(prefix="mlc-bench-many-"))
    results: dict[tuple[str, int], tuple[float, int]] = {}
    file_sizes = {}
    warm = work / "warm.py"
    warm.write_text(source(2))
    for platform, target in PLATFORMS:  # imports and caches, on a pipeline not measured
        get(platform).compile(load(str(warm)).build(), load_profile(target, repo / "targets")[0])
    for n in SIZES:
        path = work / f"many_{n}.py"
        path.write_text(source(n))
        file_sizes[n] = path.stat().st_size
        pipeline = load(str(path)).build()
        for platform, target in PLATFORMS:
            profile = load_profile(target, repo / "targets")[0]
            compiler = get(platform)
            start = time.perf_counter()
            files = compiler.compile(pipeline, profile).files
            elapsed = time.perf_counter() - start
            spec = sum(len(d) for k, d in files.items() if not k.startswith("code/"))
            results[(platform, n)] = (elapsed, spec)
    small, large = SIZES
    print(f"pipeline file: {file_sizes[large] / 1024:.0f} KB at {large} steps\n")
    print(f"| platform | {large}-step compile (s) | spec at {large} (MB) | KB per step |", end="")
    print(f" time {large}/{small} | size {large}/{small} |")
    print("|---|---:|---:|---:|---:|---:|")
    total = 0.0
    for platform, _ in PLATFORMS:
        (t_small, s_small), (t_large, s_large) = (
            results[(platform, small)],
            results[(platform, large)],
        )
        total += t_large
        print(
            f"| {platform} | {t_large:.2f} | {s_large / 1e6:.2f} | {s_large / large / 1024:.1f} "
            f"| {t_large / t_small:.1f} | {s_large / s_small:.1f} |"
        )
    print(f"\nall three platforms at {large} steps: {total:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
