"""Batch scoring of a model nothing registers: no framework, so no serving image."""

from mlcompile import Dataset, Model, Output, batch_predict, pipeline, step


@step
def fit(model: Output[Model], data: Output[Dataset]) -> None:
    """Fit and keep the data."""


@pipeline
def batch_predict_unregistered() -> None:
    """Fit, then score."""
    fitted = fit()
    batch_predict(fitted.model, fitted.data)  # expect: MLC403
