"""Project code the case's steps import: shipped with the step, on every platform."""

from shared_code.scaling import scale

__all__ = ["scale"]
