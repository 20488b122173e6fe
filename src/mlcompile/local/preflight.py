"""Before the first step starts: every secret the run needs is set, and every step's packages
can be had (installed here, or in a cached environment of their own). What is missing is
reported all at once, located at the steps that need it, and nothing runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlcompile.errors import Diagnostic, ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import scoped_tasks
from mlcompile.local.environments import PackagesUnavailable, python_for, satisfied, uv_executable
from mlcompile.runtime.secrets import local_variable


def preflight(
    pipeline: ir.Pipeline, params: dict[str, Any], store: Path
) -> dict[tuple[str, ...], str | None]:
    """The interpreter for each distinct package set, keyed by :func:`package_set` (None: this
    one); raises ValidationError
    naming every missing secret and every package set that cannot be installed."""
    tasks = list(_tasks(pipeline, params))
    problems = _missing_secrets(tasks)
    users: dict[tuple[str, ...], list[ir.Task]] = {}
    for task, component, _ in tasks:
        if component.kind == "function" and task.options.packages:
            users.setdefault(package_set(task), []).append(task)
    pythons: dict[tuple[str, ...], str | None] = {}
    for packages, steps in sorted(users.items()):
        if problems:  # do not spend minutes installing for a run that cannot start anyway
            if not satisfied(packages) and uv_executable() is None:
                problems.append(_packages(packages, steps, "uv is not on PATH (pip install uv)"))
            continue
        try:
            pythons[packages] = python_for(packages, store)
        except PackagesUnavailable as exc:
            problems.append(_packages(packages, steps, str(exc)))
    if problems:
        raise ValidationError(problems)
    return pythons


def package_set(task: ir.Task) -> tuple[str, ...]:
    return tuple(sorted(task.options.packages))


def _tasks(
    pipeline: ir.Pipeline, params: dict[str, Any] | None
) -> Iterator[tuple[ir.Task, ir.Component, dict[str, Any] | None]]:
    """Every task, nested pipelines' too; parameters are known only at the top level."""
    for scoped in scoped_tasks(pipeline):
        component = pipeline.components[scoped.task.component]
        yield scoped.task, component, params
        if component.pipeline is not None:
            yield from _tasks(component.pipeline, None)


def _missing_secrets(
    tasks: list[tuple[ir.Task, ir.Component, dict[str, Any] | None]],
) -> list[Diagnostic]:
    needed: dict[str, list[tuple[ir.Task, ir.SecretRef]]] = {}
    for task, _, params in tasks:
        for ref in task.options.secrets:
            if isinstance(ref.name, ir.Literal):
                name = str(ref.name.value)
            elif (
                isinstance(ref.name, ir.ParamRef) and params is not None and ref.name.name in params
            ):
                name = str(params[ref.name.name])
            else:
                continue  # named by a nested pipeline's input or a step: checked when it starts
            if ref.env not in os.environ and local_variable(name) not in os.environ:
                needed.setdefault(name, []).append((task, ref))
    problems = []
    for name, users in sorted(needed.items()):
        task, ref = users[0]
        steps = ", ".join(sorted({t.name for t, _ in users}))
        problems.append(
            Diagnostic(
                "MLC910",
                f"secret {name!r} (needed by {steps}) is not set: locally it is read from the"
                f" environment variable {local_variable(name)}",
                task.location.source(),
                f"export {local_variable(name)}=... (or {ref.env}) before `mlcompile run`;"
                " nothing ran",
                step=task.name,
            )
        )
    return problems


def _packages(packages: tuple[str, ...], steps: list[ir.Task], why: str) -> Diagnostic:
    names = ", ".join(sorted({t.name for t in steps}))
    return Diagnostic(
        "MLC911",
        f"packages {' '.join(packages)} (for {names}) cannot be installed: {why}",
        steps[0].location.source(),
        "install them in this environment, fix the requirement, or make the package index"
        " reachable; nothing ran",
        step=steps[0].name,
    )
