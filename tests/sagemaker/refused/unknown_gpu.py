"""A GPU type no SageMaker instance offers."""

from mlcompile import Resources, pipeline, step


@step(resources=Resources(gpu=1, gpu_type="amd-mi300x"))
def crunch(n: int) -> int:
    """Needs a GPU."""
    return n


@pipeline
def unknown_gpu(n: int = 1) -> None:
    """One GPU step."""
    crunch(n=n)  # expect: MLC403
