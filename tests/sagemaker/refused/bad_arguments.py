"""Arguments merged through platform_options that CreateProcessingJob rejects (botocore model)."""

from mlcompile import pipeline, step


@step(
    platform_options={
        "sagemaker": {"arguments": {"NetworkConfig": {"EnableNetworkIsolation": "yes"}}}
    }
)
def work(n: int) -> int:
    """Work."""
    return n


@pipeline
def bad_arguments(n: int = 1) -> None:
    """One step."""
    work(n=n)  # expect: MLC403
