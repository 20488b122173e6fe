"""Builders: each builds a context into ``repository:tag``, pushes it, and says its digest.

``lookup`` asks the registry for a tag first: contexts are content-addressed, so a tag that
exists is the image, and an unchanged environment costs one lookup, never a build. Builders
are imported only when the profile names them (each brings its cloud's SDK).
"""

from __future__ import annotations

import importlib
from typing import Protocol

from mlcompile.images.context import BuildContext
from mlcompile.profiles import Profile

_MODULES = {
    "local": "mlcompile.images.builders.local:LocalBuilder",
    "codebuild": "mlcompile.images.builders.codebuild:CodeBuildBuilder",
    "cloudbuild": "mlcompile.images.builders.cloudbuild:CloudBuildBuilder",
    "acr": "mlcompile.images.builders.acr:AcrBuilder",
}


class Builder(Protocol):
    name: str

    def lookup(self, repository: str, tag: str) -> str | None:
        """The digest (``sha256:...``) of ``repository:tag``, or None when it is not there."""
        ...

    def build(self, context: BuildContext, repository: str) -> str:
        """Build and push ``repository:<context.tag>``; its digest."""
        ...


def builder_for(profile: Profile) -> Builder:
    module_name, _, attr = _MODULES[profile.images.builder or "local"].partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    builder: Builder = factory(profile)
    return builder
