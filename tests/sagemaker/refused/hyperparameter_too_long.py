"""A training step's input value longer than a SageMaker hyperparameter value may be."""

from mlcompile import pipeline, step


@step(kind="training")
def fit(notes: str) -> int:
    """Train."""
    return len(notes)


@pipeline
def hyperparameter_too_long() -> None:
    """One training step given a long literal."""
    fit(notes="x" * 3000)  # expect: MLC406
