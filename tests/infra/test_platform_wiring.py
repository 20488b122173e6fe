"""The platform stack creates what CI and the image builder need, from the profiles it serves:
a profile with ``ci.repository`` gets its environment's keyless CI identity, one with a cloud
builder (``images.builder: codebuild`` or ``cloudbuild``) the builder scoped to the step-image
registry. Run under mocks; the generated project carries the components it imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcompile.infra import policy
from mlcompile.infra.generator import generate_platform
from mlcompile.profiles import CiSettings, ImageSettings, Profile
from tests.conftest import profile
from tests.infra.harness import run_project

#: (shipped profile, its cloud's builder or None, resource types the platform stack must add)
CASES = {
    "sagemaker-dev": (
        "codebuild",
        {
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            "aws:codebuild/project:Project",
        },
    ),
    "vertex-dev": (
        "cloudbuild",
        {
            "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
            "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider",
        },
    ),
    "kubeflow-azure": (
        None,
        {"azure-native:managedidentity:FederatedIdentityCredential"},
    ),
}


def _with_ci_and_builder(name: str, builder: str | None) -> Profile:
    base = profile(name)
    update: dict[str, object] = {"ci": CiSettings(repository="acme/churn")}
    if builder is not None:
        update["images"] = ImageSettings(builder=builder)  # type: ignore[arg-type]
    return base.model_copy(update=update)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_platform_stack_creates_ci_identity_and_builder(name: str, tmp_path: Path) -> None:
    builder, expected = CASES[name]
    configured = _with_ci_and_builder(name, builder)
    files = generate_platform(configured)
    assert "mlcompile_infra/ci_identity.py" in files
    assert ("mlcompile_infra/builders.py" in files) == (builder is not None)
    for source in (
        files["mlcompile_infra/ci_identity.py"],
        files.get("mlcompile_infra/builders.py"),
    ):
        # A generated project installs from the package index alone: no mlcompile import.
        assert source is None or b"\nfrom mlcompile" not in source.split(b"TYPE_CHECKING")[0]
    stack = run_project(files, tmp_path, configured)
    types = {r.type for r in stack.resources}
    assert expected <= types, sorted(expected - types)
    assert any(key.startswith("ci_") for key in stack.exports)
    assert policy.check(stack.resources, production=configured.keep_stateful) == []


def test_profiles_without_ci_or_builder_add_neither() -> None:
    files = generate_platform(profile("sagemaker-dev"))
    assert "mlcompile_infra/ci_identity.py" not in files
    assert "mlcompile_infra/builders.py" not in files
    assert b"ci_identity" not in files["__main__.py"]
