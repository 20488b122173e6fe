"""A disk request, which KFP cannot express per step."""

from mlcompile import Resources, pipeline, step


@step(resources=Resources(disk="20Gi"))
def big(n: int) -> int:
    """Needs scratch space."""
    return n


@pipeline
def disk_request(n: int = 1) -> None:
    """One step asking for disk."""
    big(n=n)
