"""The step side as files: what a step needs of mlcompile, shipped beside the user's code.

A step runs ``python3 -m mlcompile.runtime ADAPTER`` in an image that has only Python and the
step's packages: mlcompile itself comes with the step's code (a content-addressed code bundle on
every platform, or a step image built from these files), never from a package index. The closure
is the package root, the error types, the authoring DSL a user's module imports, and this
runtime: all standard library, all Python 3.8+. The IR, profiles and platform compilers are
reached only while a pipeline is built, never inside a step.
"""

from __future__ import annotations

import functools
from pathlib import Path

#: Parts of the mlcompile package a step imports, relative to the package folder.
STEP_SIDE = ("__init__.py", "errors.py", "dsl", "runtime")
#: Files under those parts that only the compiler uses.
_COMPILE_ONLY = ("runtime/ship.py",)


@functools.lru_cache(maxsize=1)
def _files() -> dict[str, bytes]:
    root = Path(__file__).resolve().parent.parent
    files: dict[str, bytes] = {}
    for part in STEP_SIDE:
        path = root / part
        paths = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in paths:
            rel = file.relative_to(root).as_posix()
            if "__pycache__" not in file.parts and rel not in _COMPILE_ONLY:
                files["mlcompile/" + rel] = file.read_bytes()
    return dict(sorted(files.items()))


def step_side_files() -> dict[str, bytes]:
    """The mlcompile files a step needs, by path inside the bundle (``mlcompile/...``)."""
    return dict(_files())
