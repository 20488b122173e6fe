"""Writing KFP YAML: sorted keys, block style, one document per spec, a comment header.

A spec is JSON data (mappings, lists, strings, numbers, booleans, null), so this writes that
subset of YAML itself: PyYAML's pure-Python emitter took 95% of a 1000-step compile (it
analyses every character of every scalar), and libyaml's emitter wraps and quotes long strings
differently, so bytes would depend on whether a machine has it. Strings are plain when nothing
in YAML could read them as another type, literal blocks when they span lines (scripts), and
JSON-quoted otherwise (a JSON string is a YAML double-quoted scalar). Tests load every spec
back with PyYAML and compare it with the data.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

#: Plain scalars that YAML reads back as the same string: no indicators, no number shapes.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./()-]+)*")
#: Words YAML 1.1 (PyYAML) reads as booleans or null.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
#: Characters YAML does not print inside a double-quoted scalar (or reads as line breaks).
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")


def _quoted(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: Text a literal block holds as it is: printable ASCII lines without trailing blanks.
_LITERAL = re.compile(
    r"(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)(?:\n(?:[\x20-\x7e]*[\x21-\x7e])?)*"
)


@functools.lru_cache(maxsize=1024)  # every step's command carries the same bootstrap
def _string(value: str, indent: int) -> str:
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    literal = "\n" in value and _LITERAL.fullmatch(value) is not None
    if not literal:
        return _quoted(value)
    body = value[:-1] if value.endswith("\n") else value
    chomp = "" if value.endswith("\n") and not value.endswith("\n\n") else "-"
    if value.endswith("\n\n"):
        return _quoted(value)
    pad = " " * indent
    text = "\n".join(pad + line if line else "" for line in body.split("\n"))
    return f"|{chomp}\n{text}"


def _scalar(value: Any, indent: int) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        mantissa, e, exponent = repr(value).partition("e")
        if "." not in mantissa:  # YAML 1.1 reads a float only with a dot: 1.0e-05, not 1e-05
            mantissa += ".0"
        return mantissa + e + exponent
    if isinstance(value, str):
        return _string(value, indent)
    raise TypeError(f"not JSON data: {value!r}")


def _key(key: Any) -> str:
    text = str(key)
    return text if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED else _quoted(text)


def _block(value: Any, indent: int, out: list[str], first_pad: str | None = None) -> None:
    """A non-empty mapping or list at ``indent``; ``first_pad`` replaces the first line's
    indentation (after a list item's dash)."""
    pad = " " * indent
    lead = pad if first_pad is None else first_pad
    if isinstance(value, dict):
        for key in sorted(value):
            item = value[key]
            head = f"{lead}{_key(key)}:"
            lead = pad
            if isinstance(item, dict | list) and item:
                out.append(head + "\n")
                _block(item, indent + 2 if isinstance(item, dict) else indent, out)
            else:
                out.append(f"{head} {_node(item, indent + 2)}\n")
        return
    for item in value:
        if isinstance(item, dict | list) and item:
            _block(item, indent + 2, out, first_pad=f"{lead}- ")
        else:
            out.append(f"{lead}- {_node(item, indent + 2)}\n")
        lead = pad


def _node(value: Any, indent: int) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _scalar(value, indent)


def dump_document(document: dict[str, Any]) -> str:
    out: list[str] = []
    if document:
        _block(document, 0, out)
    else:
        out.append("{}\n")
    return "".join(out)


def dump_yaml(documents: list[dict[str, Any]], header: list[str]) -> bytes:
    """The documents as YAML, preceded by ``# `` comment lines."""
    text = "---\n".join(dump_document(d) for d in documents)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return (lines + text).encode()
