"""Values that flow between steps at run time, and pipeline parameters given on the command line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ArtifactValue:
    """A stored artifact: content address, IR type, local path and the producer's metadata."""

    sha256: str
    type: str
    path: str
    uri: str
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def ref(self) -> dict[str, Any]:
        """The form the step runtime reads (``ArtifactRef`` fields)."""
        return {"path": self.path, "uri": self.uri, "metadata": self.metadata}


def identity(value: Any) -> Any:
    """What a value contributes to a cache key: an artifact by its content, never its path."""
    if isinstance(value, ArtifactValue):
        return {"artifact": value.type, "sha256": value.sha256}
    if isinstance(value, list):
        return [identity(v) for v in value]
    return value


def as_text(value: Any) -> str:
    """How a value reads inside a message or a container argument."""
    if isinstance(value, ArtifactValue):
        return value.path
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def parse_output_file(text: str, type_name: str) -> Any:
    """A value a container step wrote to its output file, read as KFP's launcher reads one: a
    str as written, other types as JSON (``true``/``false``, numbers, lists, objects). Raises
    ValueError when the text is not a value of that type."""
    if type_name in ("str", "any"):
        return text
    try:
        value: Any = json.loads(text)
    except ValueError:
        raise ValueError(f"{text.strip()[:40]!r} is not {type_name}") from None
    expected: dict[str, tuple[type, ...]] = {
        "int": (int,),
        "float": (int, float),
        "bool": (bool,),
        "list": (list,),
        "dict": (dict,),
    }
    allowed = expected.get(type_name, (object,))
    if (isinstance(value, bool) and bool not in allowed) or not isinstance(value, allowed):
        raise ValueError(f"{text.strip()[:40]!r} is not {type_name}")
    return float(value) if type_name == "float" and isinstance(value, int | float) else value
