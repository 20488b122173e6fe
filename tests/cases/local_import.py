"""A step that imports a local package of the project: the package ships with the step."""

from shared_code import scale

from mlcompile import pipeline, step


@step
def scaled(value: float, factor: float = 2.0) -> float:
    """Scale the value with the project's own helper."""
    return scale(value, factor)


@pipeline
def local_import(value: float = 1.5) -> dict:
    """One step whose code lives partly in another file."""
    return {"result": scaled(value=value).output}
