"""Tracing a container step: its function is called with placeholders for inputs and outputs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mlcompile.dsl._ir import ir
from mlcompile.dsl.trace import Trace

if TYPE_CHECKING:
    from mlcompile.dsl.step import StepDefinition

_TOKEN = re.compile(r"\{\{mlc-(input_value|input_path|output_path):([A-Za-z_][A-Za-z0-9_]*)\}\}")


class _Placeholder:
    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name

    def __format__(self, spec: str) -> str:
        return "{{mlc-" + self.kind + ":" + self.name + "}}"

    def __str__(self) -> str:
        return self.__format__("")

    def __repr__(self) -> str:
        return f"the {self.kind} placeholder of {self.name!r}"


class ArtifactPlaceholder:
    """An artifact inside a container command: use ``.path``."""

    def __init__(self, name: str, output: bool) -> None:
        self.path = _Placeholder("output_path" if output else "input_path", name)


def trace_container(
    definition: StepDefinition[Any, Any],
    trace: Trace,
    image: str | None,
    inputs: list[ir.Port],
    outputs: list[ir.Port],
) -> ir.ContainerSpec:
    from mlcompile.dsl.step import Command

    def fail(message: str, hint: str) -> ir.ContainerSpec:
        trace.error(
            "MLC206",
            f"container step {definition.name!r}: {message}",
            definition.location,
            hint,
            step=definition.name,
        )
        return ir.ContainerSpec(image=image or "")

    if not image:
        return fail("no image is given", 'write @container_step(image="alpine:3.20")')
    kwargs: dict[str, Any] = {}
    for port in inputs:
        kwargs[port.name] = (
            ArtifactPlaceholder(port.name, output=False)
            if ir.is_artifact_type(port.type)
            else _Placeholder("input_value", port.name)
        )
    for port in outputs:
        kwargs[port.name] = ArtifactPlaceholder(port.name, output=True)
    try:
        result = definition.func(**kwargs)
    except Exception as exc:
        return fail(
            f"building its command raised {type(exc).__name__}: {exc}",
            "return Command(command=[...], args=[...]) built only from the placeholders",
        )
    if not isinstance(result, Command):
        return fail(
            f"returned {type(result).__name__}, not Command",
            "return Command(command=[...], args=[...])",
        )
    if not result.command and definition.options.get("kind") != "training":
        # A training image runs its own entrypoint (SageMaker's built-in algorithms and
        # bring-your-own training images); any other container step names its program.
        return fail(
            "the command is empty",
            'give the program to run: Command(command=["python", "-m", "tool"]), or declare'
            ' @container_step(kind="training") to keep a training image\'s own entrypoint',
        )
    try:
        command = tuple(_arg(a) for a in result.command)
        args = tuple(_arg(a) for a in result.args)
    except TypeError as exc:
        return fail(
            str(exc), "use str, numbers, placeholders (data.path, a parameter) or f-strings of them"
        )
    return ir.ContainerSpec(image=image, command=command, args=args)


def _arg(value: Any) -> tuple[str | ir.Placeholder, ...]:
    if isinstance(value, ArtifactPlaceholder):
        value = value.path
    if isinstance(value, _Placeholder):
        return (ir.Placeholder(kind=value.kind, name=value.name),)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        from mlcompile.dsl.values import describe_value

        raise TypeError(f"{describe_value(value)} cannot be a command argument")
    text = str(value)
    parts: list[str | ir.Placeholder] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            parts.append(text[pos : match.start()])
        parts.append(ir.Placeholder(kind=match.group(1), name=match.group(2)))
        pos = match.end()
    if pos < len(text) or not parts:
        parts.append(text[pos:])
    return tuple(parts)
