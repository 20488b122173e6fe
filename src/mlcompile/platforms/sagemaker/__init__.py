"""Amazon SageMaker Pipelines: the pipeline definition JSON (format 2020-12-01).

Emitted from our own typed models, never through the SageMaker SDK (seconds to import, network
at import). The pipeline is lowered to SageMaker's flat shape (:mod:`.lowering`), emitted
(:mod:`.emit`), then checked against SageMaker's name rules and botocore's API model
(:mod:`.validate`). ``check`` runs the whole compile and keeps it, so ``compile`` right after it
(what the CLI does) costs nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlcompile.errors import Diagnostic, DiagnosticSink, ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.ir.features import Support
from mlcompile.platforms import BuildOutput, refusals
from mlcompile.platforms.imports import import_rules
from mlcompile.profiles import Profile


@dataclass
class _Result:
    pipeline: ir.Pipeline
    profile: Profile
    diagnostics: list[Diagnostic]
    output: BuildOutput | None


class SageMakerPlatform:
    name = "sagemaker"

    def __init__(self) -> None:
        from mlcompile.platforms.sagemaker.support import SUPPORT

        self.support: Mapping[str, Support] = SUPPORT
        self._last: _Result | None = None

    def check(self, pipeline: ir.Pipeline, profile: Profile) -> list[Diagnostic]:
        return list(self._run(pipeline, profile).diagnostics)

    def compile(self, pipeline: ir.Pipeline, profile: Profile) -> BuildOutput:
        result = self._run(pipeline, profile)
        if result.output is None:
            raise ValidationError(result.diagnostics)
        return result.output

    def _run(self, pipeline: ir.Pipeline, profile: Profile) -> _Result:
        last = self._last
        if last is not None and last.pipeline is pipeline and last.profile is profile:
            return last
        sink = DiagnosticSink()
        for diagnostic in refusals(self, pipeline):
            sink.add(diagnostic)
        from mlcompile.monitor.platforms import schedule_refusals

        for diagnostic in schedule_refusals(self.name, pipeline):
            sink.add(diagnostic)
        for diagnostic in import_rules(self.name, pipeline, ("s3",)):
            sink.add(diagnostic)
        output = None
        if not sink.has_errors:
            from mlcompile.platforms.sagemaker.compiler import build

            output = build(pipeline, profile, sink)
        if sink.has_errors:
            output = None
        self._last = _Result(pipeline, profile, sink.diagnostics, output)
        return self._last


PLATFORM = SageMakerPlatform()
