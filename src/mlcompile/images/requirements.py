"""Requirement strings: the distribution a requirement names, normalised (PEP 503)."""

from __future__ import annotations

import re

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def package_name(requirement: str) -> str:
    """``scikit-learn>=1.4`` -> ``scikit-learn``; ``Foo_Bar[x]==1`` -> ``foo-bar``."""
    match = _NAME.match(requirement)
    name = match.group(1) if match else requirement.strip()
    return re.sub(r"[-_.]+", "-", name).lower()
