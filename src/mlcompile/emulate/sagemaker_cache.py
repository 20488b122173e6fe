"""SageMaker Pipelines step caching, as the definition interpreter applies it.

A step with ``CacheConfig.Enabled`` reuses the latest successful run of a step with the same
cache key attributes, within ``ExpireAfter``, and "propagates the values from previous execution
rather than recomputing the step": its properties, which point at the objects the earlier job
wrote. The attributes that key a step are listed per step type in
https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines-default-keys.html and the
configuration in https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines-caching-enabling.html.

The interpreter's S3 (a moto server) starts empty each run, so an entry also keeps every object
the job wrote, by content in the run store; a hit puts them back where the earlier job wrote
them, so what the reused properties point at exists, as it does in the cloud's S3.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcompile.ir.canonical import content_hash

#: Per step type, the arguments that key its cache entry.
KEY_ATTRIBUTES = {
    "Processing": ("AppSpecification", "Environment", "ProcessingInputs"),
    "Training": (
        "AlgorithmSpecification",
        "CheckpointConfig",
        "DebugHookConfig",
        "DebugRuleConfigurations",
        "Environment",
        "HyperParameters",
        "InputDataConfig",
    ),
}

_DURATION = re.compile(
    r"^P?(?:(?P<y>\d+)Y)?(?:(?P<mo>\d+)M)?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<mi>\d+)M)?(?:(?P<s>\d+)S)?)?$",
    re.IGNORECASE,
)
_SECONDS = {"y": 365 * 86400, "mo": 30 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600}
_SECONDS.update({"mi": 60, "s": 1})


def cache_key(kind: str, arguments: dict[str, Any]) -> str | None:
    """The key of a step's resolved arguments; None for a type that is not cached."""
    attributes = KEY_ATTRIBUTES.get(kind)
    if attributes is None:
        return None
    keyed = {name: arguments.get(name) for name in attributes}
    return content_hash({"sagemaker-cache": 1, "type": kind, "attributes": keyed})


def expire_after_seconds(text: str | None) -> float | None:
    """An ISO 8601 duration (``P30D``, ``PT1H``, or the documentation's ``30d``, ``T16m``)."""
    if not text:
        return None
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groupdict().values()):
        raise ValueError(f"ExpireAfter {text!r} is not an ISO 8601 duration")
    return float(sum(int(v) * _SECONDS[k] for k, v in match.groupdict().items() if v))


@dataclass
class Entry:
    """What a hit restores: the step's properties and property files, and its S3 writes."""

    properties: dict[str, Any]
    property_files: dict[str, Any]
    outputs: dict[str, str]
    writes: dict[str, str]  # S3 URI -> sha256 of the object, in the run store
    finished: float

    def fresh(self, expire_after: float | None) -> bool:
        return expire_after is None or time.time() - self.finished <= expire_after


def entry_path(store_root: Path, key: str) -> Path:
    return store_root / "sagemaker-cache" / f"{key}.json"


def read_entry(store_root: Path, key: str) -> Entry | None:
    path = entry_path(store_root, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Entry(**data)
    except (OSError, ValueError, TypeError):
        return None  # no entry, or one an older version wrote: the step runs


def write_entry(store_root: Path, key: str, entry: Entry) -> None:
    path = entry_path(store_root, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(entry.__dict__, sort_keys=True), encoding="utf-8")
    partial.replace(path)
