"""Merges of two different conditions read by one step: it cannot be placed in the branches of
both (SageMaker has no value that is whichever branch ran)."""

from mlcompile import merge, otherwise, pipeline, step, when


@step
def label(text: str) -> str:
    """Echo."""
    return text


@step
def both(first: str, second: str) -> str:
    """Put two together."""
    return f"{first} {second}"


@pipeline
def merge_two_conditions(go: bool = True, loud: bool = False) -> None:
    """Two conditions, one merge each, one reader of both."""
    with when(go == True):  # noqa: E712
        yes = label(text="yes")
    with otherwise():
        no = label(text="no")
    with when(loud == True):  # noqa: E712
        up = label(text="UP")
    with otherwise():
        down = label(text="down")
    both(first=merge(yes.output, no.output), second=merge(up.output, down.output))  # expect: MLC401
