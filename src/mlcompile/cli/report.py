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


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, sort_keys=True, indent=2) + "\n")


project_root: Path | None = (
    None  # set once the pipeline is loaded, to show paths from the working directory
)
