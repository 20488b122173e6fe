"""Fixtures for running compiled KFP specs: a Python with kfp and no mlcompile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.kubeflow.runner_venv import make_venv, uv


@pytest.fixture(scope="session")
def kfp_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The interpreter of a venv with kfp and the examples' packages, without mlcompile."""
    try:
        uv()
    except RuntimeError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    return make_venv(tmp_path_factory.mktemp("kfp-venv") / "venv")
