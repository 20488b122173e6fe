"""A training step whose input has the name of a custom job launcher input."""

from mlcompile import pipeline, step


@step(kind="training")
def train(labels: str) -> str:
    """Its input is called labels, like the launcher's."""
    return labels


@pipeline
def launcher_clash(labels: str = "a,b") -> None:
    """One training step with a clashing input name."""
    train(labels=labels)
