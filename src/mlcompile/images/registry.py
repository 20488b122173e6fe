"""Where step images go: the repository the platform stack creates, named by the one naming
function (or ``images.registry`` in the profile, for a registry of your own)."""

from __future__ import annotations

from mlcompile.naming import resource_name
from mlcompile.profiles import Profile

#: The image name inside a registry that holds repositories (Artifact Registry, ACR).
IMAGE_NAME = "steps"
#: Build contexts for cloud builders live under this prefix of the artifact store.
CONTEXT_PREFIX = "image-contexts"


def repository(profile: Profile) -> str:
    """``host/path`` of the step-image repository, without tag or digest."""
    if profile.images.registry:
        return profile.images.registry
    name = resource_name(profile, "container-registry")
    if profile.cloud == "aws":
        domain = "amazonaws.com.cn" if profile.region.startswith("cn-") else "amazonaws.com"
        return f"{profile.account}.dkr.ecr.{profile.region}.{domain}/{name}"
    if profile.cloud == "gcp":
        return f"{profile.region}-docker.pkg.dev/{profile.account}/{name}/{IMAGE_NAME}"
    return f"{name}.azurecr.io/{IMAGE_NAME}"


def context_key(tag: str) -> str:
    """The object key of a build context in the artifact store."""
    return f"{CONTEXT_PREFIX}/{tag}.tar.gz"
