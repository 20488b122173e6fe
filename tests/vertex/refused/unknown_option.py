"""A Vertex platform option that does not exist."""

from mlcompile import pipeline, step


@step(platform_options={"vertex": {"machine_typ": "n1-standard-8"}})
def tagged(n: int) -> int:
    """Misspelt option."""
    return n


@pipeline
def unknown_option(n: int = 1) -> None:
    """One step with a misspelt option."""
    tagged(n=n)
