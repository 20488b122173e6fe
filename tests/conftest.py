"""Shared test helpers: example discovery, profiles, and golden files.

Set MLCOMPILE_REGENERATE=1 to rewrite golden files instead of comparing with them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlcompile.ir import nodes as ir
from mlcompile.loader import load
from mlcompile.profiles import Profile, load_profile

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/pipeline.py"))
PROFILES = sorted(p.stem for p in (REPO / "targets").glob("*.yaml"))
REGENERATE = os.environ.get("MLCOMPILE_REGENERATE") == "1"
#: What every compiler's golden files are made from: each example and each feature case.
GOLDEN_SOURCES: dict[str, Path] = {
    f"example-{name}": REPO / "examples" / name / "pipeline.py" for name in EXAMPLES
} | {f"case-{p.stem}": p for p in sorted((REPO / "tests" / "cases").glob("*.py"))}
#: Golden sources a platform refuses as a whole: their golden file there is refused.json, the
#: diagnostics, and a test checks they are refused (a model no image of the platform serves).
REFUSED_ON: dict[str, frozenset[str]] = {
    "case-model_lightgbm": frozenset({"sagemaker", "vertex"}),
    "case-model_pytorch": frozenset({"sagemaker", "vertex"}),
}


def example_path(name: str) -> Path:
    return REPO / "examples" / name / "pipeline.py"


def build_example(name: str) -> ir.Pipeline:
    return load(str(example_path(name))).build()


def profile(name: str) -> Profile:
    return load_profile(name, REPO / "targets")[0]


def assert_golden(path: Path, actual: str | bytes) -> None:
    """Compare with a committed file; with MLCOMPILE_REGENERATE=1, rewrite it."""
    data = actual.encode() if isinstance(actual, str) else actual
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    if not path.exists():
        pytest.fail(f"no golden file {path.relative_to(REPO)}; run `make regenerate` and review it")
    assert data == path.read_bytes(), (
        f"{path.relative_to(REPO)} differs; run `make regenerate` if intended"
    )


def golden_files(files: dict[str, bytes]) -> dict[str, bytes]:
    """Compiled files as golden files hold them: code bundles left out and their sha256 masked,
    since a bundle carries mlcompile's own step side and any runtime edit changes it."""
    shas = [Path(rel).name.split(".")[0] for rel in files if rel.startswith("code/")]
    out = {}
    for rel, data in files.items():
        if rel.startswith("code/"):
            continue
        for sha in shas:
            data = data.replace(sha.encode(), b"<bundle-sha256>")
        if rel.endswith(".yaml"):
            # The YAML writer quotes a sha that starts with a digit; the mask must not depend on it.
            data = data.replace(b'"<bundle-sha256>"', b"<bundle-sha256>")
        out[rel] = data
    return out


@pytest.fixture(params=EXAMPLES)
def example(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A moto server on a free port of 127.0.0.1 for AWS APIs (S3, SageMaker), stopped after."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
