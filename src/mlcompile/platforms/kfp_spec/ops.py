"""Step-side operations the lowering adds to a KFP pipeline, run by the runtime like user steps.

Kept to the standard library and the artifact classes: they run inside every step image.
"""

from __future__ import annotations

from mlcompile.dsl.artifacts import Input, Metrics


def read_metric(metrics: Input[Metrics], key: str) -> float:
    """One number from a Metrics artifact, so a condition can compare it as a parameter."""
    values = metrics.read()
    if key not in values:
        raise KeyError(f"metric {key!r} is not in the Metrics artifact (it has {sorted(values)})")
    return values[key]


def fail(message: str) -> None:
    """``fail()``: the step exits non-zero with the user's message, which fails the run."""
    raise SystemExit(f"fail(): {message}")
