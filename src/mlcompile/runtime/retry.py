"""How long to wait before a retry: one formula for the local runner and for the step side.

Kubeflow and Vertex retry a failed pod by the IR's retryPolicy; SageMaker's RetryPolicies cover
only service faults, never a failure of the step's own code, so on SageMaker the step side
retries the function inside the job (``--retry``) with this same schedule. Standard library
only: it runs inside every step image.
"""

from __future__ import annotations

#: Used when a step retries without saying how long to wait (seconds, factor): an immediate
#: retry, then doubling, the IR's one default (Kubeflow and Vertex: ``backoffDuration: 0s``).
DEFAULT_BACKOFF = (0.0, 2.0)


def delay(
    attempt: int, base: float | None, factor: float | None, cap: float | None = None
) -> float:
    """Seconds before ``attempt`` (2, 3, ...): base x factor^(retries so far - 1), capped."""
    seconds = (DEFAULT_BACKOFF[0] if base is None else base) * (
        (DEFAULT_BACKOFF[1] if factor is None else factor) ** (attempt - 2)
    )
    return seconds if cap is None else min(seconds, cap)
