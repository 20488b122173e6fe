"""Generated stacks for every example and profile, built once per session under mocks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mlcompile.errors import ValidationError
from tests.conftest import EXAMPLES, PROFILES, build_example, profile
from tests.infra.harness import Stack, build_stack

#: Platforms whose infra needs the compiled spec (the stack deploys it as is).
_NEEDS_COMPILED_SPEC = {"sagemaker"}


def platform_exists(name: str) -> bool:
    """Whether the platform's compiler module is there; a module that exists but breaks must
    fail the tests that use it, so only absence counts."""
    return importlib.util.find_spec(f"mlcompile.platforms.{name}") is not None


def generatable_profiles() -> list[str]:
    return [
        p
        for p in PROFILES
        if profile(p).platform not in _NEEDS_COMPILED_SPEC or platform_exists(profile(p).platform)
    ]


CASES = [(e, p) for e in EXAMPLES for p in generatable_profiles()]


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Stack | None]:
    """Each case's stack, or None where the platform refuses the example (a located diagnostic)."""
    built: dict[tuple[str, str], Stack | None] = {}
    for example, name in CASES:
        folder: Path = tmp_path_factory.mktemp(f"{example}-{name}")
        try:
            built[example, name] = build_stack(build_example(example), profile(name), folder)
        except ValidationError as exc:
            assert all(d.code.startswith("MLC4") for d in exc.diagnostics), exc
            built[example, name] = None
    return built
