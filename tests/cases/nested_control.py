"""Control flow inside control flow: a compound condition inside a loop over a parameter."""

from mlcompile import collect, for_each, pipeline, step, when


@step
def scale(x: float, factor: float) -> float:
    """Multiply."""
    return x * factor


@step
def flag(x: float) -> str:
    """Label a large value."""
    return f"large {x}"


@step
def total(values: list) -> float:
    """Sum the values."""
    return float(sum(values))


@pipeline
def nested_control(xs: list = [1.0, 2.0, 3.0], factor: float = 2.0, enabled: bool = True) -> dict:  # noqa: B006
    """Scale every value; flag the large ones when enabled; add them up."""
    with for_each(xs) as x:
        scaled = scale(x=x, factor=factor)
        with when((scaled.output > 3.0) & (enabled == True) | ~(factor < 0.0)):  # noqa: E712
            flag(x=scaled.output)
    return {"total": total(values=collect(scaled.output))}
