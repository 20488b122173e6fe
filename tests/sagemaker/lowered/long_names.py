"""Step names each valid, but past SageMaker's 64 characters once lowered: a nested pipeline's
prefix, loop indexes (a 63-character name and "-0"), and two names alike in their first 55
characters, read by a later step and by a condition."""

from mlcompile import collect, for_each, pipeline, step, when


@step
def a_step_with_a_rather_long_descriptive_name_for_clarity(n: int) -> int:
    """Work."""
    return n + 1


@step
def a_step_with_a_rather_long_descriptive_name_for_clarity_and_more(n: int) -> int:
    """More work."""
    return n * 2


@step
def report(first: int, second: list) -> str:
    """Read them all."""
    return f"{first}/{sum(second)}"


@pipeline
def feature_preparation_stage(n: int = 1) -> dict:
    """Inner: the long names get the nested pipeline's name in front."""
    first = a_step_with_a_rather_long_descriptive_name_for_clarity(n=n)
    second = a_step_with_a_rather_long_descriptive_name_for_clarity_and_more(n=first.output)
    return {"first": first.output, "second": second.output}


@pipeline
def long_names(n: int = 1) -> dict:
    """Outer: inline the stage, unroll a loop of long names, and branch on one of them."""
    stage = feature_preparation_stage(n=n)
    with for_each([1, 2]) as item:
        looped = a_step_with_a_rather_long_descriptive_name_for_clarity_and_more(n=item)
    with when(stage.outputs["second"] > 0):
        report(first=stage.outputs["first"], second=collect(looped.output))
    return {"second": stage.outputs["second"]}
