"""A SageMaker platform option the compiler does not know."""

from mlcompile import pipeline, step


@step(platform_options={"sagemaker": {"nodes": 2}})
def work(n: int) -> int:
    """Work."""
    return n


@pipeline
def unknown_option(n: int = 1) -> None:
    """One step."""
    work(n=n)  # expect: MLC205
