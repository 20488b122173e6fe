"""Generated stacks for every example and profile, built once per session under mocks.

Examples a platform refuses as a whole are not stack cases: ``REFUSED`` lists them with the
diagnostic expected and the source text it points at, and their own test asserts the refusal.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from mlcompile.profiles import Profile
from tests.conftest import EXAMPLES, PROFILES, build_example, profile
from tests.infra.harness import Stack, build_stack

#: Platforms whose infra needs the compiled spec (the stack deploys it as is).
_NEEDS_COMPILED_SPEC = {"sagemaker"}
#: (example, platform) -> (diagnostic code, text on the line it points at).
REFUSED: dict[tuple[str, str], tuple[str, str]] = {
    ("sweep", "sagemaker"): ("MLC401", "final("),
    ("segments", "sagemaker"): ("MLC401", "for_each("),
}


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


def shipped_profiles() -> list[Profile]:
    """Every profile in targets/: the siblings that may share a platform stack."""
    return [profile(p) for p in PROFILES]


def refused(example: str, name: str) -> bool:
    return (example, profile(name).platform) in REFUSED


CASES = [(e, p) for e in EXAMPLES for p in generatable_profiles() if not refused(e, p)]
REFUSED_CASES = [(e, p) for e in EXAMPLES for p in generatable_profiles() if refused(e, p)]


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Stack]:
    """Each case's stack; a case that fails to generate fails every test that uses it."""
    built: dict[tuple[str, str], Stack] = {}
    for example, name in CASES:
        folder: Path = tmp_path_factory.mktemp(f"{example}-{name}")
        built[example, name] = build_stack(
            build_example(example), profile(name), folder, siblings=shipped_profiles()
        )
    return built
