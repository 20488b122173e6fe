"""A Kubeflow platform option that does not exist."""

from mlcompile import pipeline, step


@step(platform_options={"kubeflow": {"node_selecter": {"pool": "gpu"}}})
def tagged(n: int) -> int:
    """Misspelt option."""
    return n


@pipeline
def unknown_option(n: int = 1) -> None:
    """One step with a misspelt option."""
    tagged(n=n)
