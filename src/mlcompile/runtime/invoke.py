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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcompile.dsl import signature
from mlcompile.dsl.artifacts import ARTIFACT_CLASSES, Artifact, RunStatus
from mlcompile.dsl.signature import Annotation


@dataclass(frozen=True)
class ArtifactRef:
    """Where an artifact is on this machine (``path``), where it lives (``uri``), its metadata."""

    path: str
    uri: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class StepFailed(Exception):
    """The user's function raised; the message names the step and the error."""


def load_function(code_file: str, function: str, bundle_root: str | Path = ".") -> Any:
    """The plain function behind a step: from ``code_file`` (relative to the bundle root) or,
    for ``module:<name>``, from an installed module."""
    if code_file.startswith("module:"):
        module = importlib.import_module(code_file[len("module:") :])
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


def _artifact_class(annotation: Annotation | None) -> tuple[type[Artifact] | None, bool]:
    """(artifact class, is a list) for an artifact annotation; (None, False) for a parameter."""
    if annotation is None or annotation.kind != "artifact":
        return None, False
    return ARTIFACT_CLASSES[annotation.type.type_name], annotation.is_list


def env_text(value: Any) -> str:
    """A parameter's value as an environment variable holds it, the same on every platform:
    booleans as ``true``/``false``, numbers as Python writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _coerce(value: Any, annotation: Annotation | None) -> Any:
    """Platforms pass parameters as strings or floats (Vertex turns 100 into 100.0)."""
    kind = annotation.type if annotation is not None else None
    if kind is RunStatus:
        return RunStatus.from_value(value)
    if value is None:
        return value
    if kind is bool and isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    if kind in (int, float, str) and not isinstance(value, kind):
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return kind(value)
        except (TypeError, ValueError):
            return value
    if kind in (list, dict) and isinstance(value, str):
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
    hints = signature.hints(func)
    kwargs: dict[str, Any] = {}
    produced: dict[str, Artifact] = {}
    for name, param in inspect.signature(func).parameters.items():
        hint = hints.get(name)
        cls, is_list = _artifact_class(hint)
        if cls is not None and hint is not None and hint.direction == "out":
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


def name_results(result: Any, annotation: Annotation | None) -> dict[str, Any]:
    if annotation is None or annotation.kind == "none":
        return {}
    fields = getattr(annotation.type, "_fields", None) if annotation.kind == "object" else None
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


def _check_result_types(func: Any, named: dict[str, Any], annotation: Annotation | None) -> None:
    """A step that returns what its annotation does not say fails here, naming the step and
    its line, instead of passing the wrong value downstream."""
    if annotation is None:
        return
    declared: dict[str, Annotation] = {"output": annotation}
    fields = getattr(annotation.type, "_fields", None) if annotation.kind == "object" else None
    if fields:
        module = sys.modules.get(getattr(annotation.type, "__module__", ""))
        namespace = dict(vars(module)) if module is not None else {}
        try:
            raw = dict(getattr(annotation.type, "__annotations__", {}))
            declared = {
                # a NamedTuple keeps a string annotation as a ForwardRef
                name: signature.read(getattr(value, "__forward_arg__", value), namespace)
                for name, value in raw.items()
            }
        except Exception:  # an annotation that cannot be resolved here is not checked
            return
    for name, value in named.items():
        expected = declared.get(name)
        if expected is None or expected.kind not in ("scalar", "container"):
            continue
        origin = expected.type
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
