"""A nested pipeline whose inlined step names exceed SageMaker's 64 characters."""

from mlcompile import pipeline, step


@step
def a_step_with_a_rather_long_descriptive_name_for_clarity(n: int) -> int:
    """Work."""
    return n


@pipeline
def feature_preparation_stage(n: int = 1) -> None:
    """Inner."""
    a_step_with_a_rather_long_descriptive_name_for_clarity(n=n)  # expect: MLC402


@pipeline
def long_name(n: int = 1) -> None:
    """Outer."""
    feature_preparation_stage(n=n)
