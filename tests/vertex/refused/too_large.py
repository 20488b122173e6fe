"""A training step larger than any machine in the table."""

from mlcompile import Resources, pipeline, step


@step(kind="training", resources=Resources(cpu=200, memory="64Gi"))
def train(n: int) -> int:
    """Asks for 200 cores."""
    return n


@pipeline
def too_large(n: int = 1) -> None:
    """One oversized training step."""
    train(n=n)
