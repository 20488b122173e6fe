"""A TensorFlow model without serving_image: the image depends on versions the IR does not state."""

from mlcompile import Model, Output, pipeline, register_model, step


@step
def fit(model: Output[Model]) -> None:
    """Fit."""


@pipeline
def no_serving_image() -> None:
    """Fit and register."""
    fitted = fit()
    register_model(fitted.model, name="tensors", framework="tensorflow")  # expect: MLC403
