"""Pipeline parameters given on the command line (``--param NAME=VALUE``), typed by the
pipeline's declared parameters; shared by ``run`` and ``deploy``."""

from __future__ import annotations

import json
from typing import Any

from mlcompile.errors import Diagnostic, SourceLocation, ValidationError, did_you_mean
from mlcompile.ir import nodes as ir


def parse_params(pipeline: ir.Pipeline, given: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` strings typed by the pipeline's declared parameters, over the defaults."""
    where = SourceLocation(pipeline.location.file, pipeline.location.line)
    names = [p.name for p in pipeline.parameters]
    values: dict[str, Any] = {p.name: p.default for p in pipeline.parameters if p.has_default}
    problems: list[Diagnostic] = []
    for item in given:
        name, sep, text = item.partition("=")
        port = pipeline.parameter(name.strip())
        if not sep or port is None:
            problems.append(
                Diagnostic(
                    "MLC101" if sep else "MLC117",
                    f"--param {item!r}: "
                    + (
                        f"{pipeline.name} has no parameter {name!r}." + did_you_mean(name, names)
                        if sep
                        else "expected NAME=VALUE"
                    ),
                    where,
                    f"parameters: {', '.join(names) or 'none'}",
                )
            )
            continue
        try:
            values[port.name] = _parse(text, port.type)
        except ValueError as exc:
            problems.append(
                Diagnostic(
                    "MLC117",
                    f"--param {port.name}={text!r} is not a valid {port.type}: {exc}",
                    where,
                    _EXAMPLES.get(port.type, "give a value of the declared type"),
                )
            )
    for port in pipeline.parameters:
        if port.name not in values and not any(
            d.message.startswith(f"--param {port.name}=") for d in problems
        ):
            problems.append(
                Diagnostic(
                    "MLC102",
                    f"{pipeline.name} needs a value for parameter {port.name!r} ({port.type})",
                    where,
                    f"add --param {port.name}=VALUE",
                )
            )
    if problems:
        raise ValidationError(problems)
    return values


_EXAMPLES = {
    "int": "for example --param rows=1000",
    "float": "for example --param min_auc=0.75",
    "bool": "use true or false",
    "list": 'give a JSON list, for example --param items=\'["a", "b"]\'',
    "dict": "give a JSON object, for example --param config='{\"k\": 1}'",
}


def _parse(text: str, type_name: str) -> Any:
    if type_name == "int":
        return int(text)
    if type_name == "float":
        return float(text)
    if type_name == "bool":
        lowered = text.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError("not true or false")
        return lowered in ("true", "1", "yes")
    if type_name in ("list", "dict"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON ({exc.msg})") from None
        if not isinstance(value, list if type_name == "list" else dict):
            raise ValueError(f"the JSON is not a {type_name}")
        return value
    return text
