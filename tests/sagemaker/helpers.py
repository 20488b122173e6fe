"""Shared SageMaker test helpers: every pipeline source, compiled once per test session."""

from __future__ import annotations

import re
from functools import cache

from mlcompile.errors import Diagnostic
from mlcompile.loader import load
from mlcompile.platforms import get
from mlcompile.platforms.sagemaker.definition import Definition
from tests.conftest import GOLDEN_SOURCES, REPO, profile

REFUSED_DIR = REPO / "tests" / "sagemaker" / "refused"
GOLDEN = REPO / "tests" / "golden" / "sagemaker"
SOURCES = GOLDEN_SOURCES
BUNDLE = re.compile(r"[0-9a-f]{64}\.tar\.gz")


@cache
def compiled(name: str, target: str = "sagemaker-dev") -> tuple[list[Diagnostic], dict[str, bytes]]:
    """(diagnostics, files) for a source; files is empty when an error was found."""
    platform = get("sagemaker")
    pipeline = load(str(SOURCES[name])).build()
    diagnostics = platform.check(pipeline, profile(target))
    if any(d.severity == "error" for d in diagnostics):
        return diagnostics, {}
    return diagnostics, platform.compile(pipeline, profile(target)).files


def compiled_ok() -> list[str]:
    return [name for name in SOURCES if compiled(name)[1]]


def normalized(spec: bytes) -> bytes:
    """The definition with bundle names masked: they hash mlcompile's own runtime sources."""
    return BUNDLE.sub("<bundle-sha256>.tar.gz", spec.decode()).encode()


def definition_of(name: str) -> Definition:
    """The typed definition of a compiled source (for checks that need step models)."""
    from mlcompile.bundle import code_bundle
    from mlcompile.errors import DiagnosticSink
    from mlcompile.platforms.sagemaker.emit import Emitter
    from mlcompile.platforms.sagemaker.lowering import lower

    pipeline = load(str(SOURCES[name])).build()
    sink = DiagnosticSink()
    emitter = Emitter(
        pipeline, lower(pipeline, sink), profile("sagemaker-dev"), code_bundle(pipeline), sink
    )
    return emitter.definition()
