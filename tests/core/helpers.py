"""Write a pipeline file into a temporary folder and build it, as a user's file would be."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from mlcompile.errors import Diagnostic, ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.loader import load

HEADER = "from mlcompile import *\nfrom mlcompile import Input, Output\n"
_counter = itertools.count()


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / f"pipe_{next(_counter)}.py"
    path.write_text(HEADER + textwrap.dedent(source))
    return path


def build(tmp_path: Path, source: str) -> ir.Pipeline:
    return load(str(write(tmp_path, source))).build()


def errors(tmp_path: Path, source: str) -> list[Diagnostic]:
    with pytest.raises(ValidationError) as info:
        build(tmp_path, source)
    return info.value.diagnostics


def codes(tmp_path: Path, source: str) -> list[str]:
    return [d.code for d in errors(tmp_path, source)]


def line_of(path_source: str, needle: str) -> int:
    """The 1-based line of ``needle`` in the file as written (header included)."""
    text = HEADER + textwrap.dedent(path_source)
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)
