"""The IR models, imported on first use.

A step process imports the user's pipeline file, and with it the DSL, only to call one function:
it never builds IR. Deferring the pydantic models until a pipeline is traced keeps every step's
start-up (on every platform and in the local runner) free of that import.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any


class _Deferred:
    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


if TYPE_CHECKING:
    from mlcompile.ir import nodes as ir
else:
    ir = _Deferred("mlcompile.ir.nodes")

__all__ = ["ir"]
