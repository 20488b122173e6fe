"""Source locations: where in the user's files a step, a call or a block was written."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ast

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
    if filename.startswith("<"):
        return True  # code generated at run time (dataclasses, exec), not a file of the user's
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


_TREES: dict[str, ast.Module] = {}


def _calls_at(path: str, line: int) -> list[ast.Call]:
    """The call expressions of ``path`` that start at ``line`` or span it, innermost last."""
    import ast

    tree = _TREES.get(path)
    if tree is None:
        try:
            with open(path, encoding="utf-8") as stream:
                tree = ast.parse(stream.read())
        except (OSError, SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        _TREES[path] = tree
    found: list[ast.Call] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            end = getattr(node, "end_lineno", None) or node.lineno
            if node.lineno <= line <= end:
                found.append(node)
    return sorted(found, key=lambda n: (n.lineno, getattr(n, "col_offset", 0)))


def option_location(raw: RawLocation, option: str, field: str | None = None) -> RawLocation:
    """The line of keyword ``option`` (and of ``field`` inside its value, for
    ``resources=Resources(cpu=...)``) in the call written at ``raw``: an option's mistake is
    shown on the option's own line, not the decorator's. ``raw`` itself when not found."""
    import ast

    if raw.line <= 0 or not raw.path.endswith(".py"):
        return raw
    for call in reversed(_calls_at(raw.path, raw.line)):
        for keyword in call.keywords:
            if keyword.arg != option:
                continue
            line = getattr(keyword, "lineno", None) or keyword.value.lineno
            inner = keyword.value
            if field is not None and isinstance(inner, ast.Call):
                for sub in inner.keywords:
                    if sub.arg == field:
                        line = getattr(sub, "lineno", None) or sub.value.lineno
            elif field is not None and isinstance(inner, ast.Dict):
                for key in inner.keys:
                    if isinstance(key, ast.Constant) and key.value == field:
                        line = key.lineno
            return RawLocation(raw.path, line)
    return raw
