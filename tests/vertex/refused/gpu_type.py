"""A GPU model Vertex AI does not offer."""

from mlcompile import Resources, pipeline, step


@step(resources=Resources(gpu=1, gpu_type="nvidia-a10g"))
def accelerate(n: int) -> int:
    """Asks for an AWS-only GPU."""
    return n


@pipeline
def gpu_type(n: int = 1) -> None:
    """One step on a GPU Vertex lacks."""
    accelerate(n=n)
