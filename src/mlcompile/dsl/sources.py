"""The project files a step's code runs from: its own file and the local modules it imports.

Imports are read with ``ast`` (nothing is executed) and resolved the way the step runtime
resolves them, against the step file's folder, which it puts first on ``sys.path``. Only files
inside the project are kept; installed packages belong in the step's ``packages`` or image.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from mlcompile.dsl._ir import ir


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def add_source(sources: dict[str, ir.SourceFile], path: Path, root: Path) -> str:
    """Record ``path`` and the local files it imports in ``sources``; returns its relative path."""
    base = path.parent
    rel = path.relative_to(root).as_posix()
    pending = [path]
    while pending:
        current = pending.pop()
        key = current.relative_to(root).as_posix()
        if key in sources:
            continue
        text = current.read_text(encoding="utf-8")
        local = [p for p in _local_imports(text, base, root) if p != current]
        sources[key] = ir.SourceFile(
            sha256=sha256_hex(text),
            text=text,
            imports=tuple(p.relative_to(root).as_posix() for p in local),
        )
        pending.extend(local)
    return rel


def closure_hash(sources: dict[str, ir.SourceFile], rel: str) -> str:
    """The hash of a file together with every project file it imports."""
    from mlcompile.ir.walk import source_closure

    parts = [f"{path}:{sources[path].sha256}" for path in source_closure(sources, rel)]
    return sha256_hex("\n".join(parts))


def _local_imports(text: str, base: Path, root: Path) -> list[Path]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []  # the loader reports the syntax error with its line
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    found: set[Path] = set()
    for module in modules:
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            stem = base.joinpath(*parts[:depth])
            for candidate in (stem.with_suffix(".py"), stem / "__init__.py"):
                if candidate.is_file() and _inside(candidate.resolve(), root):
                    found.add(candidate.resolve())
    return sorted(found)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True
