"""A model package's inference instance type that CreateModelPackage does not take."""

from mlcompile import Model, Output, pipeline, register_model, step


@step(kind="training")
def fit(model: Output[Model]) -> None:
    """Train."""
    with open(model.path, "w") as f:
        f.write("model")


@pipeline
def inference_instance_not_offered() -> None:
    """Register on an instance type SageMaker has no endpoint for."""
    trained = fit()
    register_model(trained.model, name="odd", inference_instances=["ml.m5.huge"])  # expect: MLC403
