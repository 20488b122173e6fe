"""A condition on text a training step returns: SageMaker reads a training job's values only as
metrics, which are numbers (a function step can read the text from the job's output)."""

from mlcompile import Model, Output, pipeline, step, when


@step(kind="training")
def fit(model: Output[Model]) -> str:
    """Fit; say how it went."""
    return "good"


@step
def ship(note: str) -> None:
    """Ship it."""


@pipeline
def training_text_in_condition() -> None:
    """Fit, then ship only a good fit."""
    fitted = fit()
    with when(fitted.output == "good"):  # expect: MLC403
        ship(note=fitted.output)
