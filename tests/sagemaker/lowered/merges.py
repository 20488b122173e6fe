"""A merged value read by several steps, whose results are read again (by a step, a condition
and a pipeline output): all of them are placed in both branches of the condition."""

from mlcompile import merge, otherwise, pipeline, step, when


@step
def label(text: str) -> str:
    """Echo."""
    return text


@step
def shout(text: str) -> str:
    """Louder."""
    return text.upper() + "!"


@step
def both(first: str, second: str) -> str:
    """Put two together."""
    return f"{first} {second}"


@pipeline
def merges(go: bool = True) -> dict:
    """Branch, merge, then read the merged value twice and the results again."""
    with when(go == True):  # noqa: E712
        yes = label(text="yes")
    with otherwise():
        no = label(text="no")
    said = merge(yes.output, no.output)
    plain = label(text=said)
    loud = shout(text=said)
    joined = both(first=plain.output, second=loud.output)
    with when(joined.output == "yes YES!"):
        label(text="agreed")
    label(text="last").after(joined)
    return {"said": said, "joined": joined.output}
