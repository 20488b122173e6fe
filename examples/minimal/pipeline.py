"""The smallest useful pipeline: make a number, then square it."""

from mlcompile import pipeline, step


@step
def produce(start: int = 3) -> int:
    """Return the starting value."""
    return start


@step
def square(value: int) -> int:
    """Square the value."""
    return value * value


@pipeline
def minimal(start: int = 3) -> dict:
    """Two steps, one parameter, one output."""
    first = produce(start=start)
    return {"squared": square(value=first.output)}
