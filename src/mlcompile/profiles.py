"""Deployment profiles (``targets/*.yaml``): where and how a pipeline is compiled and deployed.

A profile names the platform, the cloud account or project, the region, the environment and
the naming prefix; compilers and infra read only the profile and the IR. Problems are reported
with the profile file and line, like problems in a pipeline.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlcompile.errors import Diagnostic, ProfileError, SourceLocation, did_you_mean

Cloud = Literal["aws", "gcp", "azure"]
SecretsBackend = Literal[
    "aws-secrets-manager", "gcp-secret-manager", "kubernetes", "azure-key-vault"
]

_CLOUD_OF_PLATFORM: dict[str, tuple[str, ...]] = {
    "sagemaker": ("aws",),
    "vertex": ("gcp",),
    "kubeflow": ("aws", "gcp", "azure"),
}
_DEFAULT_BACKEND: dict[str, str] = {
    "sagemaker": "aws-secrets-manager",
    "vertex": "gcp-secret-manager",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KubeflowSettings(_Section):
    """Where Kubeflow runs pipelines: the namespace, and the KServe serving runtime."""

    namespace: str = Field("kubeflow", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    host: str | None = None
    #: The image has the mlcompile step runtime installed; otherwise each step pip-installs it.
    runtime_in_image: bool = True


class SageMakerSettings(_Section):
    """Optional: an existing execution role instead of the one infra creates."""

    role_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")


class VertexSettings(_Section):
    """Vertex runtime settings: a VPC network for private jobs, and the CMEK key to use when it
    is managed outside the generated stack."""

    network: str | None = None
    kms_key: str | None = None


Builder = Literal["local", "codebuild", "cloudbuild", "acr"]
_BUILDER_CLOUD: dict[str, str] = {"codebuild": "aws", "cloudbuild": "gcp", "acr": "azure"}


class ImageSettings(_Section):
    """How step images are built (``mlcompile images``) and whether steps may install packages
    when they start (default: yes, except in ``environment: prod``)."""

    #: Unset: `mlcompile images` builds locally and `deploy` builds no images.
    builder: Builder | None = None
    #: A repository other than the stack's (for example a registry on this machine).
    registry: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9.:-]*(/[a-z0-9._-]+)+$")
    tls_verify: bool = True
    #: The image built images start from when a step names none (needs ``python3``).
    base: str = "python:3.11-slim"
    python_version: str = Field("3.11", pattern=r"^3\.(8|9|1[0-9])$")
    install_at_start: bool | None = None


class AzureSettings(_Section):
    resource_group: str | None = Field(None, pattern=r"^[-\w._()]{1,90}$")


class Profile(BaseModel):
    """One deployment target: a platform on a cloud, in one environment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")
    platform: str = Field(
        description="kubeflow, sagemaker, vertex, or a registered third-party platform"
    )
    cloud: Cloud
    environment: str = Field(pattern=r"^[a-z][a-z0-9]{0,11}$")
    region: str = Field(pattern=r"^[a-z0-9-]{2,32}$")
    account: str = Field(description="AWS account id, GCP project id or Azure subscription id")
    name_prefix: str = Field("mlc", pattern=r"^[a-z][a-z0-9]{1,9}$")
    #: Steps without image= run in it; unset, each platform picks an image that runs there.
    default_image: str | None = None
    instance_types: dict[str, str] = Field(
        default_factory=dict,
        description="Instance or machine type by step name, or for the keys 'default', 'gpu' and 'training'",
    )
    secrets_backend: SecretsBackend | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    kubeflow: KubeflowSettings = KubeflowSettings()
    sagemaker: SageMakerSettings = SageMakerSettings()
    vertex: VertexSettings = VertexSettings()
    azure: AzureSettings = AzureSettings()
    images: ImageSettings = ImageSettings()

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        from mlcompile.platforms import names  # the registry, third-party platforms included

        if self.platform not in names():
            raise ValueError(
                f"platform {self.platform!r} is not registered."
                + did_you_mean(self.platform, names())
                + f" Platforms: {', '.join(names())}"
            )
        clouds = _CLOUD_OF_PLATFORM.get(self.platform, ("aws", "gcp", "azure"))
        if self.cloud not in clouds:
            raise ValueError(
                f"platform {self.platform} runs on {' or '.join(clouds)}, not {self.cloud}"
            )
        builder_cloud = _BUILDER_CLOUD.get(self.images.builder or "local", self.cloud)
        if builder_cloud != self.cloud:
            raise ValueError(
                f"images.builder {self.images.builder} builds on {builder_cloud}, not {self.cloud}"
            )
        if self.cloud == "aws" and not (self.account.isdigit() and len(self.account) == 12):
            raise ValueError(f"account {self.account!r} is not a 12-digit AWS account id")
        return self

    @property
    def effective_secrets_backend(self) -> str:
        if self.secrets_backend:
            return self.secrets_backend
        return _DEFAULT_BACKEND.get(self.platform, "kubernetes")

    @property
    def installs_at_start(self) -> bool:
        """Whether a step may pip-install its packages when it starts (never in prod)."""
        if self.images.install_at_start is not None:
            return self.images.install_at_start
        return self.environment != "prod"

    @property
    def all_tags(self) -> dict[str, str]:
        """Tags every resource and spec carries: the profile's own, plus who manages it."""
        return {"managed-by": "mlcompile", "environment": self.environment, **self.tags}

    @property
    def labels(self) -> dict[str, str]:
        """``all_tags`` as every cloud accepts them: GCP labels are lowercase, without '_'."""
        if self.cloud != "gcp":
            return self.all_tags
        return {
            k.lower().replace("_", "-"): v.lower().replace("_", "-")
            for k, v in self.all_tags.items()
        }

    def content_hash(self) -> str:
        from mlcompile.ir.canonical import content_hash

        return content_hash(self)


def profile_schema() -> dict[str, Any]:
    return Profile.model_json_schema()


def load_profile(ref: str, search_dir: Path | None = None) -> tuple[Profile, Path]:
    """A profile by name (``targets/<name>.yaml``) or path; the second value is its file."""
    folder = search_dir or Path("targets")
    candidate = Path(ref)
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        path = candidate
    else:
        path = folder / f"{ref}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
        raise ProfileError(
            Diagnostic(
                "MLC302",
                f"profile {ref!r} not found (looked for {path.as_posix()})."
                + did_you_mean(ref, known),
                None,
                f"profiles in {folder.as_posix()}/: {', '.join(known) or 'none'}; or give a path to a YAML file",
            )
        )
    return parse_profile(path.read_text(encoding="utf-8"), path), path


def parse_profile(text: str, path: Path) -> Profile:
    shown = path.as_posix()
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ProfileError(
            Diagnostic(
                "MLC301",
                f"profile is not valid YAML: {exc}",
                SourceLocation(shown, line),
                "fix the YAML syntax",
            )
        ) from None
    if not isinstance(data, dict):
        raise ProfileError(
            Diagnostic(
                "MLC301",
                "profile must be a mapping of settings",
                SourceLocation(shown, 1),
                "see `mlcompile schema profile`",
            )
        )
    data.setdefault("name", path.stem)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        diagnostics = []
        for err in exc.errors():
            keys = [str(k) for k in err["loc"]]
            field = ".".join(keys) or "(profile)"
            line = _line_of(node, keys)
            hint = "see `mlcompile schema profile` for every field"
            if err["type"] == "extra_forbidden":
                hint = (
                    "remove it." + did_you_mean(keys[-1], list(Profile.model_fields)) + " " + hint
                )
            diagnostics.append(
                Diagnostic(
                    "MLC301",
                    f"profile field {field}: {err['msg']}",
                    SourceLocation(shown, line),
                    hint,
                )
            )
        raise ProfileError(diagnostics) from None


def _line_of(node: yaml.Node | None, keys: list[str]) -> int:
    """The 1-based line of a nested key in a composed YAML document (its parent's, if absent)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        if match is None:
            break
        key_node = next(k for k, v in node.value if v is match)
        line, node = key_node.start_mark.line + 1, match
    return line


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]
