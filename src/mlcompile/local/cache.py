"""Cache keys: the same code on the same inputs and parameters gives the same outputs.

A key hashes the step's code (the source file's sha256 and the function's name, the container
spec, or the built-in's configuration), every input value (artifacts by their content's sha256,
never by path), the step's environment and the outputs it declares. Nothing machine- or
time-dependent goes in, so a key is the same on every machine and every run.
"""

from __future__ import annotations

from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import content_hash
from mlcompile.local.values import identity

#: Built-ins with effects beyond their outputs run every time (they are idempotent instead).
#: An import reads its URI afresh each run: the data behind a URI changes, its text does not.
_ALWAYS_RUN = frozenset({"import_artifact", "register_model", "deploy_model", "fail"})


def code_identity(component: ir.Component) -> dict[str, Any]:
    if component.function is not None:
        return {"function": component.function.model_dump(mode="json")}
    if component.container is not None:
        return {"container": component.container.model_dump(mode="json")}
    assert component.builtin is not None
    return {"builtin": component.builtin.model_dump(mode="json")}


def code_sha256(component: ir.Component) -> str:
    """The hash lineage shows as a step's code: the source file's, or the spec's content hash."""
    if component.function is not None:
        return component.function.sha256
    return content_hash(code_identity(component))


def cache_key(
    component: ir.Component, task: ir.Task, inputs: dict[str, Any], env: dict[str, str]
) -> str | None:
    """The step's cache key, or None when it must always run; ``env`` is the environment the
    step runs with (a parameter's value, not its name)."""
    if not task.options.cache:
        return None
    if component.builtin is not None and component.builtin.op in _ALWAYS_RUN:
        return None
    return content_hash(
        {
            "cache": 1,
            "code": code_identity(component),
            "inputs": {name: identity(value) for name, value in sorted(inputs.items())},
            "env": dict(sorted(env.items())),
            "outputs": [[p.name, p.type] for p in component.outputs],
        }
    )
