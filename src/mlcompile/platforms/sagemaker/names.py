"""SageMaker step names: what lowering builds, shortened where SageMaker's 64 characters end.

Lowering names a step after where it comes from: ``<sub>-<step>`` for a step of a nested
pipeline, ``<step>-<index>`` for an unrolled loop, ``<step>-if``/``-else`` for a step placed in
both branches of a merge. Each part is a valid name, but together they can pass the 64
characters a step name may have (``^[A-Za-z0-9\\-_]{1,64}$``, the ``Name`` of a pipeline step in
https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-steps.html). Such a name
becomes its first characters and a short hash of the whole name: readable, stable from one
compile to the next, and as distinct as the full names are. :func:`renamed` applies the new
names to every place a definition names a step (its name, ``DependsOn``, ``Get`` paths and
``Std:JsonGet`` property files), and the manifest records each renamed step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mlcompile.platforms.sagemaker import definition as d

LIMIT = 64
_HASH = 8


def step_name(full: str) -> str:
    """``full`` when it fits, else a readable prefix, a hyphen and 8 hex digits of its hash."""
    if len(full) <= LIMIT:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASH]
    return f"{full[: LIMIT - _HASH - 1].rstrip('-_')}-{digest}"


def shortened(names: list[str]) -> dict[str, str]:
    """The names that need shortening, each with its SageMaker name."""
    return {name: step_name(name) for name in names if step_name(name) != name}


def renamed(value: Any, names: Mapping[str, str]) -> Any:
    """``value`` (steps, arguments, expressions) with every step named by ``names`` renamed."""
    if not names:
        return value
    if isinstance(value, d.Step):
        return replace(
            value,
            name=names.get(value.name, value.name),
            depends_on=tuple(names.get(n, n) for n in value.depends_on),
            arguments=renamed(value.arguments, names),
        )
    if isinstance(value, d.Get):
        root, _, rest = value.path.partition(".")
        step, dot, prop = rest.partition(".")
        if root == "Steps" and step in names:
            return d.Get(f"Steps.{names[step]}{dot}{prop}")
        return value
    if isinstance(value, d.JsonGet):
        return replace(value, step=names.get(value.step, value.step))
    if isinstance(value, d.Join):
        return d.Join(value.on, tuple(renamed(v, names) for v in value.values))
    if isinstance(value, d.Compare):
        return d.Compare(value.type, renamed(value.left, names), renamed(value.right, names))
    if isinstance(value, d.NotCondition):
        return d.NotCondition(renamed(value.operand, names))
    if isinstance(value, d.OrCondition):
        return d.OrCondition(tuple(renamed(c, names) for c in value.operands))
    if isinstance(value, Mapping):
        return {k: renamed(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [renamed(v, names) for v in value]
    if isinstance(value, tuple):
        return tuple(renamed(v, names) for v in value)
    return value
