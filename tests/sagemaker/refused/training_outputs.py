"""A training step writing a dataset: a SageMaker training job outputs one model archive."""

from mlcompile import Dataset, Input, Model, Output, pipeline, step


@step
def make(data: Output[Dataset]) -> None:
    """Write data."""


@step(kind="training")
def fit(data: Input[Dataset], model: Output[Model], report: Output[Dataset]) -> None:
    """Fit and report."""


@pipeline
def training_outputs() -> None:
    """Make, then fit."""
    made = make()
    fit(data=made.data)  # expect: MLC403
