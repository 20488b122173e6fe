"""A merged value whose consumer is read by another step: it cannot move into both branches."""

from mlcompile import merge, otherwise, pipeline, step, when


@step
def label(text: str) -> str:
    """Echo."""
    return text


@pipeline
def merge_read_downstream(go: bool = True) -> None:
    """Branch, merge, then read the merged consumer's result."""
    with when(go == True):  # noqa: E712
        yes = label(text="yes")
    with otherwise():
        no = label(text="no")
    said = label(text=merge(yes.output, no.output))  # expect: MLC401
    label(text=said.output)
