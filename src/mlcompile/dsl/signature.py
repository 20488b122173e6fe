"""Reading a step's annotations the same way at compile time and inside any step's Python.

A signature says which parameters are scalars, which are artifacts read or written, and what the
step returns. Annotations may be objects or, under ``from __future__ import annotations``, strings;
on Python 3.8 and 3.9 a string such as ``Input[Metrics] | None`` or ``list[Dataset]`` cannot be
evaluated, so strings are read from their syntax tree against the function's module instead of
``eval``. Standard library only: this runs inside every step.
"""

from __future__ import annotations

import ast
import builtins
import sys
import typing
from dataclasses import dataclass
from typing import Any

from mlcompile.dsl.artifacts import INPUT, OUTPUT, Artifact, RunStatus, artifact_annotation

SCALARS = (int, float, str, bool)
CONTAINERS = (list, dict)
_LISTS = (list, typing.List)
_DICTS = (dict, typing.Dict)


@dataclass(frozen=True)
class Annotation:
    """What an annotation means to a step.

    ``kind`` is ``scalar`` (``type`` int/float/str/bool), ``container`` (list or dict), either
    with ``direction`` "out" for a value a container step writes to a file,
    ``artifact`` (``type`` the artifact class, ``direction`` "in"/"out", ``is_list`` for a
    fan-in), ``run-status`` (the run's status, given to the final step), ``none`` (no value),
    ``object`` (another class, e.g. a NamedTuple) or
    ``unsupported``.
    """

    kind: str
    type: Any = None
    direction: str | None = None
    is_list: bool = False
    optional: bool = False

    def or_none(self) -> Annotation:
        return Annotation(self.kind, self.type, self.direction, self.is_list, True)


UNSUPPORTED = Annotation("unsupported")
NONE = Annotation("none")


def hints(func: Any) -> dict[str, Annotation]:
    """Every annotated parameter of ``func`` (and ``return``), read; raises NameError for a
    name the module does not define."""
    func = getattr(func, "__wrapped__", func)
    namespace = dict(getattr(func, "__globals__", {}))
    raw: dict[str, Any] = dict(getattr(func, "__annotations__", {}))
    return {name: read(value, namespace) for name, value in raw.items()}


def read(annotation: Any, namespace: dict[str, Any]) -> Annotation:
    if isinstance(annotation, str):
        try:
            tree = ast.parse(annotation.strip(), mode="eval")
        except SyntaxError:
            return UNSUPPORTED
        return _read_node(tree.body, namespace)
    return _read_object(annotation, namespace)


def _read_object(obj: Any, namespace: dict[str, Any]) -> Annotation:
    if obj is None or obj is type(None):
        return NONE
    if obj in SCALARS:
        return Annotation("scalar", obj)
    if obj in CONTAINERS:
        return Annotation("container", obj)
    marked = artifact_annotation(obj)
    if marked is not None:
        return _artifact(_read_object(marked[0], namespace), marked[1])
    origin = getattr(obj, "__origin__", None)
    args = getattr(obj, "__args__", ()) or ()
    if origin is typing.Union or type(obj).__name__ == "UnionType":
        return _union([_read_object(a, namespace) for a in args])
    if origin in _LISTS:
        inner = _read_object(args[0], namespace) if args else UNSUPPORTED
        if inner.kind == "artifact-class":
            return Annotation("list-of-artifacts", inner.type)
        return Annotation("container", list)
    if origin in _DICTS:
        return Annotation("container", dict)
    if isinstance(obj, type):
        if issubclass(obj, Artifact):
            return Annotation("artifact-class", obj)
        if obj is RunStatus:
            return Annotation("run-status", obj)
        return Annotation("object", obj)
    return UNSUPPORTED


def _artifact(inner: Annotation, direction: Any) -> Annotation:
    name = "in" if direction is INPUT else "out" if direction is OUTPUT else None
    if inner.kind == "artifact-class":
        return Annotation("artifact", inner.type, name)
    if inner.kind == "list-of-artifacts" and name == "in":
        return Annotation("artifact", inner.type, name, is_list=True)
    if inner.kind in ("scalar", "container") and name == "out":
        # A value a container step's command writes to a file (``Output[int]``).
        return Annotation(inner.kind, inner.type, name)
    return UNSUPPORTED


def _union(options: list[Annotation]) -> Annotation:
    rest = [o for o in options if o.kind != "none"]
    if len(rest) == 1 and len(options) == 2:
        return rest[0].or_none()
    return UNSUPPORTED


def _lookup(node: ast.expr, namespace: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        if node.id in namespace:
            return namespace[node.id]
        if hasattr(builtins, node.id):
            return getattr(builtins, node.id)
        raise NameError(f"name {node.id!r} is not defined")
    if isinstance(node, ast.Attribute):
        return getattr(_lookup(node.value, namespace), node.attr)
    raise TypeError(f"{ast.dump(node)} is not a name")


def _subscript_args(node: ast.Subscript) -> list[ast.expr]:
    inner: Any = node.slice
    if sys.version_info < (3, 9) and isinstance(inner, ast.Index):  # 3.8 wraps the slice
        inner = inner.value  # type: ignore[attr-defined,unused-ignore]
    return list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]


def _read_node(node: ast.expr, namespace: dict[str, Any]) -> Annotation:
    if isinstance(node, ast.Constant):
        if node.value is None:
            return NONE
        if isinstance(node.value, str):
            return read(node.value, namespace)
        return UNSUPPORTED
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_read_node(node.left, namespace), _read_node(node.right, namespace)])
    if isinstance(node, ast.Subscript):
        base = _lookup(node.value, namespace)
        args = _subscript_args(node)
        marked = artifact_annotation(base) if not isinstance(base, type) else None
        if marked is not None or isinstance(base, _marker_types()):
            direction = marked[1] if marked is not None else base._direction
            return _artifact(_read_node(args[0], namespace), direction)
        if base in _LISTS:
            inner = _read_node(args[0], namespace) if args else UNSUPPORTED
            if inner.kind == "artifact-class":
                return Annotation("list-of-artifacts", inner.type)
            return Annotation("container", list)
        if base in _DICTS:
            return Annotation("container", dict)
        if base is typing.Optional:
            return _read_node(args[0], namespace).or_none()
        if base is typing.Union:
            return _union([_read_node(a, namespace) for a in args])
        return UNSUPPORTED
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _read_object(_lookup(node, namespace), namespace)
    return UNSUPPORTED


def _marker_types() -> tuple[type, ...]:
    from mlcompile.dsl.artifacts import _Marker

    return (_Marker,)
