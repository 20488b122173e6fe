"""Profiles validate with located errors, and one naming function gives every name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcompile.errors import ProfileError
from mlcompile.naming import resource_name
from mlcompile.profiles import parse_profile
from tests.conftest import PROFILES, profile


def test_shipped_profiles_cover_every_platform() -> None:
    loaded = [profile(name) for name in PROFILES]
    assert {p.platform for p in loaded} == {"kubeflow", "sagemaker", "vertex"}
    assert any(p.platform == "kubeflow" and p.cloud == "azure" for p in loaded)
    assert {"kubeflow-dev", "sagemaker-dev", "sagemaker-prod", "vertex-dev"} <= set(PROFILES)


@pytest.mark.parametrize(
    ("text", "line", "match"),
    [
        (
            "platform: vertex\ncloud: aws\nenvironment: dev\nregion: r1\naccount: '111122223333'\n",
            2,
            "runs on gcp",
        ),
        (
            "platform: sagemaker\ncloud: aws\nenvironment: Dev!\nregion: r1\naccount: '111122223333'\n",
            3,
            "environment",
        ),
        (
            "platform: sagemaker\ncloud: aws\nenvironment: dev\nregion: r1\naccount: '12'\n",
            5,
            "12-digit",
        ),
        ("platform: [\n", 2, "not valid YAML"),
    ],
)
def test_profile_errors(text: str, line: int, match: str) -> None:
    with pytest.raises(ProfileError, match=match) as info:
        parse_profile(text, Path("targets/x.yaml"))
    assert info.value.diagnostics[0].location is not None
    assert info.value.diagnostics[0].location.line == line


def test_names_follow_cloud_rules() -> None:
    azure = profile("kubeflow-azure")
    store = resource_name(azure, "artifact-store")
    assert store.isalnum() and store.islower() and 3 <= len(store) <= 24
    sagemaker = profile("sagemaker-dev")
    assert resource_name(sagemaker, "artifact-store") == "mlc-dev-artifacts-111122223333"
    assert resource_name(sagemaker, "model-group", "churn") == "mlc-dev-churn"
    long = resource_name(
        profile("vertex-dev"), "pipeline-identity", "a-very-long-pipeline-name-indeed"
    )
    assert len(long) <= 30 and long == resource_name(
        profile("vertex-dev"), "pipeline-identity", "a-very-long-pipeline-name-indeed"
    )
    with pytest.raises(ValueError):
        resource_name(sagemaker, "endpoint")


def test_environments_get_distinct_names() -> None:
    dev, prod = profile("sagemaker-dev"), profile("sagemaker-prod")
    for purpose in ("artifact-store", "container-registry", "kms-key"):
        assert resource_name(dev, purpose) != resource_name(prod, purpose)  # type: ignore[arg-type]
