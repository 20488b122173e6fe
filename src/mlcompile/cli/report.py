"""Printing results and diagnostics: plain text for people, ``--json`` for machines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mlcompile.errors import Diagnostic


def _shown(diagnostic: Diagnostic, root: Path | None) -> str:
    if diagnostic.location is None or root is None:
        return str(diagnostic)
    from mlcompile.loader import display_path

    where = f"{display_path(diagnostic.location.file, root)}:{diagnostic.location.line}"
    text = (
        f"{where}: {diagnostic.severity} {diagnostic.code} [{diagnostic.rule}] {diagnostic.message}"
    )
    return f"{text}\n  hint: {diagnostic.hint}" if diagnostic.hint else text


def print_diagnostics(diagnostics: list[Diagnostic], root: Path | None = None) -> None:
    for diagnostic in diagnostics:
        print(_shown(diagnostic, root), file=sys.stderr)
    errors = sum(d.severity == "error" for d in diagnostics)
    if errors:
        print(f"{errors} error{'s' if errors != 1 else ''}", file=sys.stderr)


def field_lines(data: dict[str, object], indent: str = "  ") -> list[str]:
    """``key: value`` lines for people: lists one item a line, no Python reprs."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            lines.extend(field_lines({str(k): v for k, v in value.items()}, indent + "  "))
        elif isinstance(value, list | tuple):
            lines.append(f"{indent}{key}:" + ("" if value else " none"))
            lines.extend(f"{indent}  - {_scalar(item)}" for item in value)
        else:
            lines.append(f"{indent}{key}: {_scalar(value)}")
    return lines


def _scalar(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, sort_keys=True, indent=2) + "\n")


project_root: Path | None = (
    None  # set once the pipeline is loaded, to show paths from the working directory
)
