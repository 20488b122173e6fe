"""Writing KFP YAML: sorted keys, block style, one document per spec, a comment header.

The pure-Python dumper is used on purpose: libyaml's emitter wraps and quotes some long strings
differently, and the bytes must not depend on whether a machine has libyaml.
"""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (scripts, embedded sources) as literal blocks, so they stay readable."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump_yaml(documents: list[dict[str, Any]], header: list[str]) -> bytes:
    """The documents as YAML, preceded by ``# `` comment lines."""
    text = yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return (lines + text).encode()
