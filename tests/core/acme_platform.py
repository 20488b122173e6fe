"""A third-party platform as a plugin package would ship it: registered through the
`mlcompile.platforms` entry-point group, it writes the canonical IR as its spec."""

from __future__ import annotations

from typing import ClassVar

from mlcompile.errors import Diagnostic
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import canonical_json
from mlcompile.ir.features import FEATURES, Support
from mlcompile.platforms import BuildOutput, refusals
from mlcompile.profiles import Profile


class AcmePlatform:
    name = "acme"
    support: ClassVar[dict[str, Support]] = {
        f: Support("mapped", "kept in the IR") for f in FEATURES
    }

    def check(self, pipeline: ir.Pipeline, profile: Profile) -> list[Diagnostic]:
        return refusals(self, pipeline)

    def compile(self, pipeline: ir.Pipeline, profile: Profile) -> BuildOutput:
        return BuildOutput("acme.json", {"acme.json": canonical_json(pipeline).encode()})


PLATFORM = AcmePlatform()
