"""A SageMaker definition over CreatePipeline's 1 MB inline limit: a loop unrolled into 700
processing steps (not a golden case: its size is the point)."""

from mlcompile import for_each, pipeline, step


@step
def square(n: int) -> int:
    """One of many small steps."""
    return n * n


@pipeline
def large() -> None:
    """Every item of a long literal list becomes its own SageMaker step."""
    with for_each(list(range(700))) as n:
        square(n=n)
