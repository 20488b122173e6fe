"""Loading the user's pipeline file: ``path/to/file.py`` or ``path/to/file.py:function``.

Import errors in the user's file become located diagnostics, never tracebacks.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from mlcompile.dsl.location import project_root, relative_path
from mlcompile.dsl.pipeline import PipelineDefinition
from mlcompile.errors import (
    Diagnostic,
    DiagnosticSink,
    PipelineLoadError,
    SourceLocation,
    did_you_mean,
)
from mlcompile.ir import nodes as ir


@dataclass(frozen=True)
class LoadedPipeline:
    definition: PipelineDefinition[..., object]
    file: Path
    root: Path

    def build(self) -> ir.Pipeline:
        return self.definition.build(self.root)


def split_spec(spec: str) -> tuple[Path, str | None]:
    path, sep, name = spec.rpartition(":")
    if sep and path.endswith(".py"):
        return Path(path), name or None
    return Path(spec), None


def import_file(path: Path) -> ModuleType:
    """Import a Python file by path under a stable private module name; reused if imported."""
    resolved = path.resolve()
    module_name = "mlcompile_user_" + hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise PipelineLoadError(
            Diagnostic("MLC001", f"{path} is not a Python file", None, "give a .py file")
        )
    module = importlib.util.module_from_spec(spec)
    folder = str(resolved.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def load(spec: str) -> LoadedPipeline:
    path, name = split_spec(spec)
    if not path.is_file():
        raise PipelineLoadError(
            Diagnostic(
                "MLC002",
                f"pipeline file {path.as_posix()} does not exist",
                None,
                "give the path of a .py file that defines a @pipeline",
            )
        )
    root = project_root(str(path))
    try:
        module = import_file(path)
    except SyntaxError as exc:
        where = SourceLocation(relative_path(exc.filename or str(path), root), exc.lineno or 1)
        raise PipelineLoadError(
            Diagnostic("MLC001", f"syntax error: {exc.msg}", where, "fix the Python syntax")
        ) from None
    except Exception as exc:
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if Path(f.filename).resolve().is_relative_to(root)
        ]
        last = frames[-1] if frames else None
        located: SourceLocation | None = (
            SourceLocation(relative_path(last.filename, root), last.lineno or 1) if last else None
        )
        raise PipelineLoadError(
            Diagnostic(
                "MLC001",
                f"importing {path.as_posix()} raised {type(exc).__name__}: {exc}",
                located,
                "the file must import without side effects that fail; install what it imports",
            )
        ) from None
    found = {
        attr: value
        for attr, value in vars(module).items()
        if isinstance(value, PipelineDefinition) and value.func.__module__ == module.__name__
    }
    if name is not None:
        chosen = found.get(name) or next((d for d in found.values() if d.name == name), None)
        if chosen is None:
            raise PipelineLoadError(
                Diagnostic(
                    "MLC002",
                    f"{path.as_posix()} has no pipeline {name!r}."
                    + did_you_mean(name, list(found)),
                    None,
                    f"pipelines in it: {', '.join(sorted(found)) or 'none'}",
                )
            )
        return LoadedPipeline(chosen, path, root)
    if not found:
        raise PipelineLoadError(
            Diagnostic(
                "MLC002",
                f"{path.as_posix()} defines no @pipeline function",
                None,
                "decorate the pipeline function with @pipeline",
            )
        )
    roots = _top_level(found, root)
    if len(roots) != 1:
        names = ", ".join(sorted(roots or found))
        raise PipelineLoadError(
            Diagnostic(
                "MLC003",
                f"{path.as_posix()} defines several pipelines ({names})",
                None,
                f"choose one: {path.as_posix()}:{sorted(roots or found)[0]}",
            )
        )
    return LoadedPipeline(found[roots[0]], path, root)


def _top_level(found: dict[str, PipelineDefinition[..., object]], root: Path) -> list[str]:
    """The pipelines no other pipeline in the file uses as a nested step."""
    if len(found) == 1:
        return list(found)
    nested: set[str] = set()
    for definition in found.values():
        sub = definition.trace(root, DiagnosticSink())
        nested.update(c.name for c in sub.components.values() if c.kind == "pipeline")
    return [attr for attr, d in found.items() if d.name not in nested]


def display_path(file: str, root: Path) -> str:
    """A project-relative file as the user can open it from the working directory."""
    full = root / file
    try:
        return os.path.relpath(full)
    except ValueError:
        return full.as_posix()
