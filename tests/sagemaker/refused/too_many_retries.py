"""More retries than SageMaker's MaxAttempts allows (20)."""

from mlcompile import pipeline, step


@step(retries=25)
def flaky(n: int) -> int:
    """Fails sometimes."""
    return n


@pipeline
def too_many_retries(n: int = 1) -> None:
    """One flaky step."""
    flaky(n=n)  # expect: MLC403
