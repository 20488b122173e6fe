"""Fixtures for the local runner's tests: a fresh store and a folder for steps' marker files."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    folder = tmp_path / "marker"
    folder.mkdir()
    return folder
