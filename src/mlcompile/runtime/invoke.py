"""Calling a step function: import it, build its artifacts, coerce parameters, name its results.

Platform adapters (Kubeflow's executor input, SageMaker's processing paths, the local runner)
translate their own conventions into :func:`invoke` arguments and write its results back.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import numbers
import os
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcompile.dsl.artifacts import ARTIFACT_CLASSES, INPUT, OUTPUT, Artifact


@dataclass(frozen=True)
class ArtifactRef:
    """Where an artifact is on this machine (``path``), where it lives (``uri``), its metadata."""

    path: str
    uri: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class StepFailed(Exception):
    """The user's function raised; the message names the step and the error."""


def load_function(code_file: str, function: str, bundle_root: str | os.PathLike[str] = ".") -> Any:
    """The plain function behind a step: from ``code_file`` (relative to the bundle root) or,
    for ``module:<name>``, from an installed module."""
    if code_file.startswith("module:"):
        module = importlib.import_module(code_file.removeprefix("module:"))
    else:
        path = (Path(bundle_root) / code_file).resolve()
        name = "mlcompile_step_" + "_".join(Path(code_file).with_suffix("").parts).replace("-", "_")
        module = sys.modules.get(name)  # type: ignore[assignment]
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise StepFailed(f"cannot load step code from {path}")
            module = importlib.util.module_from_spec(spec)
            sys.path.insert(0, str(path.parent))
            sys.modules[name] = module
            spec.loader.exec_module(module)
    target: Any = module
    for part in function.split("."):
        target = getattr(target, part)
    return getattr(target, "func", target)


def _artifact_class(annotation: Any) -> tuple[type[Artifact] | None, str | None, bool]:
    """(artifact class, 'in'/'out', is a list) for an annotation; (None, None, False) for params."""
    annotation = _without_none(annotation)
    if typing.get_origin(annotation) is not typing.Annotated:
        return None, None, False
    base, *extras = typing.get_args(annotation)
    direction = "in" if INPUT in extras else "out" if OUTPUT in extras else None
    if typing.get_origin(base) is list:
        (inner,) = typing.get_args(base)
        return ARTIFACT_CLASSES[inner.type_name], direction, True
    if isinstance(base, type) and issubclass(base, Artifact):
        return ARTIFACT_CLASSES[base.type_name], direction, False
    return None, None, False


def _without_none(annotation: Any) -> Any:
    """``X | None`` (an optional input) is annotated as ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


_COERCE = {int: int, float: float, str: str}


def _coerce(value: Any, annotation: Any) -> Any:
    """Platforms pass parameters as strings or floats (Vertex turns 100 into 100.0)."""
    if annotation is bool and isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if annotation in _COERCE and value is not None and not isinstance(value, annotation):
        if annotation is int and isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return _COERCE[annotation](value)
        except (TypeError, ValueError):
            return value
    origin = typing.get_origin(annotation) or annotation
    if origin in (list, dict) and isinstance(value, str):
        return json.loads(value)
    return value


def invoke(
    func: Any,
    params: dict[str, Any],
    inputs: dict[str, ArtifactRef | list[ArtifactRef]],
    outputs: dict[str, ArtifactRef],
) -> tuple[dict[str, Any], dict[str, Artifact]]:
    """Call ``func``; returns its named output parameters and the output artifact objects
    (whose metadata the step may have filled)."""
    hints = typing.get_type_hints(func, include_extras=True)
    kwargs: dict[str, Any] = {}
    produced: dict[str, Artifact] = {}
    for name, param in inspect.signature(func).parameters.items():
        cls, direction, is_list = _artifact_class(hints.get(name))
        if cls is not None and direction == "out":
            ref = outputs[name]
            Path(ref.path).parent.mkdir(parents=True, exist_ok=True)
            produced[name] = kwargs[name] = cls(ref.path, ref.uri, ref.metadata)
        elif cls is not None:
            if name not in inputs:
                continue
            given = inputs[name]
            refs = given if isinstance(given, list) else [given]
            objects = [cls(r.path, r.uri, r.metadata) for r in refs]
            kwargs[name] = objects if is_list else objects[0]
        elif name in params:
            kwargs[name] = _coerce(params[name], hints.get(name))
        elif param.default is inspect.Parameter.empty:
            raise StepFailed(f"step {func.__name__!r} got no value for {name!r}")
    result = func(**kwargs)
    named = name_results(result, hints.get("return"))
    _check_result_types(func, named, hints.get("return"))
    return named, produced


def name_results(result: Any, annotation: Any) -> dict[str, Any]:
    if annotation in (None, type(None)):
        return {}
    fields = getattr(annotation, "_fields", None)
    if fields:
        return {name: getattr(result, name) for name in fields}
    return {"output": result}


#: What a value returned for each declared type may be (a bool is not an int here; numpy's
#: scalars register themselves as numbers.Integral and numbers.Real).
_RESULT_TYPES: dict[Any, tuple[type, ...]] = {
    int: (numbers.Integral,),
    float: (numbers.Real,),
    str: (str,),
    bool: (bool,),
    list: (list, tuple),
    dict: (dict,),
}


def _check_result_types(func: Any, named: dict[str, Any], annotation: Any) -> None:
    """A step that returns what its annotation does not say fails here, naming the step and
    its line, instead of passing the wrong value downstream."""
    declared: dict[str, Any] = {"output": annotation}
    if getattr(annotation, "_fields", None):
        try:
            declared = typing.get_type_hints(annotation)
        except Exception:  # an annotation that cannot be resolved here is not checked
            return
    for name, value in named.items():
        expected = declared.get(name)
        origin = typing.get_origin(expected) or expected
        allowed = _RESULT_TYPES.get(origin)
        if allowed is None:
            continue
        if isinstance(value, allowed) and not (origin in (int, float) and isinstance(value, bool)):
            continue
        if origin is bool and type(value).__name__ == "bool_":
            continue  # numpy's bool
        code = getattr(func, "__code__", None)
        where = f" ({os.path.basename(code.co_filename)}:{code.co_firstlineno})" if code else ""
        what = "" if name == "output" else f" field {name!r}"
        raise StepFailed(
            f"step {func.__name__!r}{where} is declared to return{what} "
            f"{getattr(origin, '__name__', origin)} but returned {value!r} "
            f"({type(value).__name__})"
        )
