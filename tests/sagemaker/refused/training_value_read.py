"""A value returned by a training step and read downstream: training jobs have no property files."""

from mlcompile import Model, Output, pipeline, step


@step(kind="training")
def fit(model: Output[Model]) -> float:
    """Fit; return a score."""
    return 1.0


@step
def show(score: float) -> None:
    """Print the score."""


@pipeline
def training_value_read() -> None:
    """Fit, then show the score."""
    fitted = fit()
    show(score=fitted.output)  # expect: MLC403
