"""The container command that runs a step through mlcompile's runtime under KFP's executor contract.

The step's code is not in the command: the user's sources and mlcompile's step side travel as one
content-addressed code bundle, an input artifact of the step (:data:`CODE_INPUT`) that KFP's
launcher makes available. The command carries only the bootstrap
(:mod:`mlcompile.runtime.bootstrap`, the same text in every step) and the bundle's sha256, which
the bootstrap checks before unpacking. A step with packages pip-installs them first; nothing
installs mlcompile.
"""

from __future__ import annotations

import ast
import functools
import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlcompile.runtime.bootstrap import CODE_INPUT

__all__ = ["CODE_INPUT", "bootstrap_text", "runtime_command"]


@functools.cache
def bootstrap_text() -> str:
    """The bootstrap's source as the command carries it: without docstrings and comments (but
    the first line, which names kfp's executor for its local runner), since every step has it."""
    import mlcompile.runtime.bootstrap as module

    text = Path(module.__file__ or "").read_text(encoding="utf-8")
    if "python3" in text:  # kfp's local runner would rewrite it
        raise AssertionError("the bootstrap must not name the interpreter")
    lines = text.splitlines()
    dropped: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and _is_docstring(body[0]):
            dropped.update(range(body[0].lineno - 1, body[0].end_lineno or body[0].lineno))
    kept = [
        line
        for i, line in enumerate(lines)
        if i not in dropped and (i == 0 or not line.strip().startswith("#")) and line.strip()
    ]
    return "\n".join(kept) + "\n"


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def runtime_command(
    *,
    function: str,
    bundle_sha256: str,
    install: Sequence[str] = (),
    options: dict[str, Any] | None = None,
) -> tuple[list[str], list[str]]:
    """(command, args) running ``function`` (``path.py:name`` or ``module:pkg.mod:name``) from
    the code bundle whose sha256 is ``bundle_sha256``.

    ``install`` are pip requirement specifiers; ``options`` become ``--name JSON`` arguments of
    the runtime adapter.
    """
    boot = bootstrap_text()
    if install:
        requirements = " ".join(shlex.quote(r) for r in install)
        script = (
            "python3 -m pip install --quiet --no-warn-script-location"
            f" --disable-pip-version-check {requirements}\n"
            'exec python3 -c "$0" "$@"\n'
        )
        command = ["sh", "-ec", script, boot, bundle_sha256]
    else:
        command = ["python3", "-c", boot, bundle_sha256]
    args = ["--executor_input", "{{$}}", "--function", function]
    for name, value in sorted((options or {}).items()):
        args += [f"--{name}", json.dumps(value, sort_keys=True, separators=(",", ":"))]
    return command, args


def fixed_env(env: Mapping[str, object]) -> list[dict[str, str]]:
    """A container's ``env`` list: the literal variables (a parameter's arrives as an input)."""
    return [{"name": k, "value": v} for k, v in sorted(env.items()) if isinstance(v, str)]
