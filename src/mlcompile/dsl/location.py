"""Source locations: where in the user's files a step, a call or a block was written."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

_DSL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_CONTEXTLIB = os.path.abspath(contextlib.__file__)
_ROOT_MARKERS = ("pyproject.toml", ".git", "setup.py", "setup.cfg")


@dataclass(frozen=True)
class RawLocation:
    """An absolute path and a line, kept until the project root is known."""

    path: str
    line: int


def is_internal(filename: str) -> bool:
    """Frames of mlcompile itself and of contextlib (which runs our ``with`` blocks)."""
    path = os.path.abspath(filename)
    return path.startswith(_DSL_DIR + os.sep) or path == _CONTEXTLIB


def caller_location() -> RawLocation:
    """The innermost frame outside mlcompile: the user's line that called into the DSL."""
    frame = sys._getframe(1)
    while frame is not None:
        if not is_internal(frame.f_code.co_filename):
            return RawLocation(os.path.abspath(frame.f_code.co_filename), frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return RawLocation("<unknown>", 0)


def project_root(pipeline_file: str) -> Path:
    """The nearest folder above the pipeline file with a project marker, else the file's folder.

    Locations in the IR are relative to it, so the IR does not change with the working
    directory or the place a clone lives in.
    """
    start = Path(pipeline_file).resolve().parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return folder
    return start


def relative_path(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return Path(path).name
