"""More retries than SageMaker's MaxAttempts allows (20): capped at 20, with a warning."""

from mlcompile import pipeline, step


@step(retries=25)
def flaky(n: int) -> int:
    """Fails sometimes."""
    return n


@pipeline
def retries_capped(n: int = 1) -> None:
    """One flaky step."""
    flaky(n=n)  # warns: MLC405
