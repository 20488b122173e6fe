"""The mlcompile files a step needs inside its container, by path (``mlcompile/...``)."""

from __future__ import annotations


def step_side_files() -> dict[str, bytes]:
    """The step side: what ``python3 -m mlcompile.runtime`` and the user's module import."""
    from mlcompile.platforms.sagemaker.bundle import _runtime_files

    return _runtime_files()
