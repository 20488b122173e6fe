"""Canonical JSON and content hashes: the same IR gives the same bytes on every machine."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel


def canonical_json(data: BaseModel | Any, *, indent: int | None = None) -> str:
    """Sorted keys, no insignificant whitespace (unless indented), UTF-8 text, no NaN."""
    if hasattr(data, "model_dump"):  # a pydantic model, without importing pydantic here
        data = data.model_dump(mode="json")
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        data,
        sort_keys=True,
        separators=separators,
        ensure_ascii=False,
        allow_nan=False,
        indent=indent,
    )


def sha256_hex(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def content_hash(data: BaseModel | Any) -> str:
    """The sha256 of the canonical (compact) JSON form."""
    return sha256_hex(canonical_json(data))
