"""An instance type that is not in CreateProcessingJob's enum."""

from mlcompile import pipeline, step


@step(platform_options={"sagemaker": {"instance_type": "ml.m5.huge"}})
def work(n: int) -> int:
    """Work."""
    return n


@pipeline
def bad_instance_type(n: int = 1) -> None:
    """One step."""
    work(n=n)  # expect: MLC403
