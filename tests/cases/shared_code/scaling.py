"""A helper module two levels from the pipeline file."""


def scale(value: float, factor: float) -> float:
    return round(value * factor, 6)
