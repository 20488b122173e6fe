"""The one naming function: every cloud resource name comes from (profile, purpose, qualifier).

Compiled specs and generated Pulumi stacks both call :func:`resource_name`, so a bucket, role or
model group a spec refers to is always the one the stack creates. Each cloud's rules (length,
characters, global uniqueness) are applied here; a name that would be too long is shortened
with a hash of the full name, so it stays unique and stable.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from mlcompile.profiles import Profile

Purpose = Literal[
    "artifact-store",
    "container-registry",
    "image-builder",
    "model-group",
    "pipeline",
    "pipeline-identity",
    "schedule",
    "endpoint",
    "kms-key",
    "namespace",
    "resource-group",
    "workspace",
    "ci-identity",
    "storage-identity",
    "alert-channel",
]

#: The platform native to each cloud keeps the short pipeline-scoped names; any other platform
#: on that cloud (Kubeflow on EKS, GKE or AKS) adds its own name, so two platforms sharing an
#: account never name a pipeline's role, schedule or alert the same.
_NATIVE_PLATFORM = {"aws": "sagemaker", "gcp": "vertex", "azure": "azureml"}

#: Purposes that need a qualifier (the pipeline, model or endpoint they belong to).
QUALIFIED: frozenset[str] = frozenset(
    {"model-group", "pipeline", "pipeline-identity", "schedule", "endpoint"}
)


def _hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _dns(text: str, limit: int) -> str:
    """Lowercase letters, digits and single hyphens, at most ``limit`` long."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(name) > limit:
        name = name[: limit - 7].rstrip("-") + "-" + _hash(name)
    return name


def _alnum(text: str, limit: int) -> str:
    """Lowercase letters and digits only (Azure storage accounts and registries)."""
    name = re.sub(r"[^a-z0-9]", "", text.lower())
    if len(name) > limit:
        name = name[: limit - 6] + _hash(name)
    return name


def vertex_endpoint_id(endpoint_name: str) -> str:
    """The numeric id (ten digits, no leading zero) a Vertex endpoint gets from its name: the
    stack creates the endpoint with it and the compiled pipeline deploys to it."""
    return str(
        int(hashlib.sha256(endpoint_name.encode()).hexdigest()[:12], 16) % 9_000_000_000
        + 1_000_000_000
    )


def resource_name(profile: Profile, purpose: Purpose, qualifier: str | None = None) -> str:
    """The name of the resource serving ``purpose`` in ``profile``'s environment."""
    if (purpose in QUALIFIED) != (qualifier is not None):
        raise ValueError(
            f"purpose {purpose!r} {'needs' if purpose in QUALIFIED else 'takes no'} qualifier"
        )
    base = f"{profile.name_prefix}-{profile.environment}"
    cloud = profile.cloud
    if purpose == "artifact-store":
        if cloud == "azure":
            return _alnum(
                f"{profile.name_prefix}{profile.environment}art{_hash(profile.account)}", 24
            )
        # Bucket names are global: the account or project makes them unique per owner.
        return _dns(f"{base}-artifacts-{profile.account}", 63)
    if purpose == "container-registry":
        if cloud == "azure":
            return _alnum(
                f"{profile.name_prefix}{profile.environment}acr{_hash(profile.account)}", 50
            )
        return _dns(f"{base}-steps", 63)
    if purpose == "image-builder":
        # A CodeBuild project (2-255), a service account id on GCP (6-30), an ACR task (5-50).
        return _dns(f"{base}-image-builder", 30)
    if purpose == "kms-key":
        if cloud == "azure":
            # A Key Vault name is global (3-24 characters): the account makes it unique.
            return _dns(f"{base}-kv-{_hash(profile.account)}", 24)
        return _dns(f"{base}-artifacts", 63)
    if purpose == "namespace":
        return profile.kubeflow.namespace
    if purpose == "resource-group":
        return profile.azure.resource_group or _dns(f"{base}-ml", 90)
    if purpose == "workspace":
        return _dns(f"{base}-ml", 33)
    if purpose == "ci-identity":
        # What CI deploys as: a role, a service account id (6-30) or a managed identity.
        return _dns(f"{base}-ci", 30 if cloud == "gcp" else 64)
    if purpose == "storage-identity":
        return _dns(f"{base}-storage", 64)
    if purpose == "alert-channel":
        # The environment's one SNS or Pub/Sub topic (or Azure action group), in the platform
        # stack; "-alerts" after the environment, which no pipeline-scoped name ends in.
        return _dns(f"{base}-alert-channel", 64)
    assert qualifier is not None
    if profile.platform != _NATIVE_PLATFORM[cloud]:
        base = f"{base}-{profile.platform}"
    if purpose == "pipeline-identity":
        if cloud == "gcp":
            # Service account ids: 6-30 characters.
            return _dns(f"{base}-{qualifier}", 30)
        return _dns(f"{base}-{qualifier}-exec", 64)
    if purpose == "schedule":
        return _dns(f"{base}-{qualifier}-schedule", 64)
    # model-group, pipeline, endpoint
    return _dns(f"{base}-{qualifier}", 63)


# ----- Pulumi projects and stacks --------------------------------------------------------------


def _project(text: str) -> str:
    """A Pulumi project name: letters, digits, hyphens, underscores and periods, at most 100."""
    return _dns(text, 100)


def platform_project(profile: Profile) -> str:
    """The Pulumi project of the platform stack that owns what every pipeline of the profile's
    cloud account or project shares; its stack is named after the environment."""
    return _project(f"{profile.name_prefix}-platform-{profile.cloud}-{profile.account}")


def pipeline_project(profile: Profile, pipeline: str) -> str:
    """The Pulumi project of one pipeline's own resources on the profile's platform and account;
    its stack is named after the environment."""
    return _project(
        f"{profile.name_prefix}-{pipeline}-{profile.platform}-{profile.cloud}-{profile.account}"
    )


def platform_stack_reference(profile: Profile, organization: str = "organization") -> str:
    """The fully qualified name a pipeline stack reads its platform stack by
    (``<organization>/<project>/<stack>``; ``organization`` is the self-managed backends' name)."""
    return f"{organization}/{platform_project(profile)}/{profile.environment}"


def platform_scope(profile: Profile) -> tuple[str, str, str, str]:
    """Profiles with the same scope share one platform stack."""
    return (profile.cloud, profile.account, profile.environment, profile.name_prefix)
