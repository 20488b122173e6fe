"""Deployment profiles (``targets/*.yaml``): where and how a pipeline is compiled and deployed.

A profile names the platform, the cloud account or project, the region, the environment and
the naming prefix; compilers and infra read only the profile and the IR. Problems are reported
with the profile file and line, like problems in a pipeline.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

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


class CiSettings(_Section):
    """Who deploys this profile from CI: the repository, its main branch, the CI provider and
    the CI environment (its protection rules gate the deploy). The cloud trusts exactly these."""

    provider: Literal["github", "gitlab"] = "github"
    #: ``owner/name`` on GitHub, ``group[/subgroup]/project`` on GitLab.
    repository: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")
    branch: str = Field("main", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
    #: The CI environment's name; the profile's environment when not set.
    environment: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    #: The profile (beside this one) whose tested images a release promotes into this one: its
    #: registry grants this environment's CI identity read access.
    promote_from: str | None = Field(None, pattern=r"^[a-z][a-z0-9-]{0,62}$")


#: One address the clouds accept: a local part, '@', and a domain with a dot (what SNS, Cloud
#: Monitoring and Azure Monitor check), at most 254 characters (RFC 5321's path limit).
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _email(address: str) -> str:
    if len(address) > 254 or not _EMAIL.match(address):
        raise ValueError(f"{address!r} is not an email address (name@example.com)")
    return address


class AlertSettings(_Section):
    """Who the environment's alert channel notifies besides its topic: each address gets a
    subscription (SNS asks its owner to confirm), an email channel (Cloud Monitoring) or an
    email receiver (Azure Monitor action group)."""

    emails: list[Annotated[str, AfterValidator(_email)]] = Field(default_factory=list)

    @field_validator("emails")
    @classmethod
    def _once_each(cls, emails: list[str]) -> list[str]:
        seen = {e.lower() for e in emails}
        if len(seen) != len(emails):
            raise ValueError("an address is given twice; give each once")
        return emails


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
    protect_stateful: bool | None = Field(
        None,
        description="Protect buckets, keys, registries and vaults from deletion and retain them "
        "when the stack lets go of them; default: on when environment is prod",
    )
    tags: dict[str, str] = Field(default_factory=dict)
    kubeflow: KubeflowSettings = KubeflowSettings()
    sagemaker: SageMakerSettings = SageMakerSettings()
    vertex: VertexSettings = VertexSettings()
    azure: AzureSettings = AzureSettings()
    ci: CiSettings = CiSettings()
    images: ImageSettings = ImageSettings()
    alerts: AlertSettings = AlertSettings()

    # Each rule is checked on its own field, so a mistake is reported at that field's line.
    @field_validator("platform")
    @classmethod
    def _registered(cls, platform: str) -> str:
        from mlcompile.platforms import names  # the registry, third-party platforms included

        if platform not in names():
            raise ValueError(
                f"platform {platform!r} is not registered."
                + did_you_mean(platform, names())
                + f" Platforms: {', '.join(names())}"
            )
        return platform

    @field_validator("cloud")
    @classmethod
    def _cloud_of_platform(cls, cloud: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")
        clouds = _CLOUD_OF_PLATFORM.get(str(platform), ("aws", "gcp", "azure"))
        if platform is not None and cloud not in clouds:
            raise ValueError(f"platform {platform} runs on {' or '.join(clouds)}, not {cloud}")
        return cloud

    @field_validator("account")
    @classmethod
    def _account_of_cloud(cls, account: str, info: ValidationInfo) -> str:
        if info.data.get("cloud") == "aws" and not (account.isdigit() and len(account) == 12):
            raise ValueError(f"account {account!r} is not a 12-digit AWS account id")
        return account

    @field_validator("protect_stateful")
    @classmethod
    def _protected_in_prod(cls, protect: bool | None, info: ValidationInfo) -> bool | None:
        if info.data.get("environment") == "prod" and protect is False:
            raise ValueError(
                "protect_stateful: false in environment prod would let `pulumi destroy` or a "
                "replacement delete production data; remove the setting"
            )
        return protect

    @field_validator("images")
    @classmethod
    def _builder_of_cloud(cls, images: ImageSettings, info: ValidationInfo) -> ImageSettings:
        cloud = info.data.get("cloud")
        builder_cloud = _BUILDER_CLOUD.get(images.builder or "local", cloud)
        if cloud is not None and builder_cloud != cloud:
            raise ValueError(
                f"images.builder {images.builder} builds on {builder_cloud}, not {cloud}"
            )
        return images

    @property
    def keep_stateful(self) -> bool:
        """Whether the stacks protect and retain what holds data (see ``protect_stateful``)."""
        if self.protect_stateful is not None:
            return self.protect_stateful
        return self.environment == "prod"

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
    """The schema of a profile file as written: ``name`` may be left out, since it defaults to
    the file's name (``targets/sagemaker-dev.yaml`` is ``sagemaker-dev``)."""
    schema = Profile.model_json_schema()
    schema["required"] = [f for f in schema.get("required", []) if f != "name"]
    schema["properties"]["name"]["description"] = "Defaults to the file name without .yaml"
    return schema


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
    """Validate a profile's YAML; every problem is reported at once, each at its own line."""
    shown = path.as_posix()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(
            Diagnostic(
                "MLC301",
                f"profile is not valid YAML: {_yaml_problem(exc)}",
                SourceLocation(shown, _yaml_line(exc)),
                "fix the YAML syntax",
            )
        ) from None
    diagnostics = [
        Diagnostic(
            "MLC303",
            f"profile key {key} is given twice (first at line {first}); "
            "YAML would silently keep the last value",
            SourceLocation(shown, line),
            "give each key once",
        )
        for key, first, line in _duplicate_keys(node)
    ]
    if not isinstance(data, dict):
        diagnostics.append(
            Diagnostic(
                "MLC301",
                "profile must be a mapping of settings",
                SourceLocation(shown, 1),
                "see `mlcompile schema profile`",
            )
        )
        raise ProfileError(diagnostics)
    data.setdefault("name", path.stem)
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            keys = [str(k) for k in err["loc"]]
            field = ".".join(keys) or "(profile)"
            line = _line_of(node, keys)
            hint = "see `mlcompile schema profile` for every field"
            if err["type"] == "extra_forbidden":
                hint = "remove it." + did_you_mean(keys[-1], _fields_beside(keys)) + " " + hint
            message = str(err["msg"]).removeprefix("Value error, ")
            diagnostics.append(
                Diagnostic(
                    "MLC301",
                    f"profile field {field}: {message}",
                    SourceLocation(shown, line),
                    hint,
                )
            )
        raise ProfileError(diagnostics) from None
    if diagnostics:
        raise ProfileError(diagnostics)
    return profile


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem:
        return f"{context}, {problem}" if context else str(problem)
    return str(exc).splitlines()[0]


def _yaml_line(exc: yaml.YAMLError) -> int:
    """Where the mistake starts: an unclosed quote is reported where the quote opens (the
    context), not at the end of the file where the scanner gave up."""
    problem = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context_mark", None)
    problem_text = str(getattr(exc, "problem", "") or "")
    if context is not None and "end of stream" in problem_text:
        return int(context.line) + 1
    if problem is not None:
        return int(problem.line) + 1
    return 1


def _duplicate_keys(node: yaml.Node | None, prefix: str = "") -> list[tuple[str, int, int]]:
    """(dotted key, line first given, line given again) for each key a mapping repeats."""
    found: list[tuple[str, int, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key, value in node.value:
            name = getattr(key, "value", None)
            dotted = f"{prefix}{name}"
            line = key.start_mark.line + 1
            if isinstance(name, str) and name in seen:
                found.append((dotted, seen[name], line))
            elif isinstance(name, str):
                seen[name] = line
            found.extend(_duplicate_keys(value, f"{dotted}."))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_duplicate_keys(item, f"{prefix}{index}."))
    return found


def _fields_beside(keys: list[str]) -> list[str]:
    """The fields of the section a misspelt key sits in (``kubeflow.namspace`` is compared
    with the kubeflow section's fields, not the top level's)."""
    model: type[BaseModel] = Profile
    for key in keys[:-1]:
        info = model.model_fields.get(key)
        annotation = info.annotation if info is not None else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return []
    return list(model.model_fields)


def _line_of(node: yaml.Node | None, keys: list[str]) -> int:
    """The 1-based line of a nested key in a composed YAML document (its parent's, if absent)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in keys:
        if isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]  # an item of a list: its own line
            line = node.start_mark.line + 1
            continue
        if not isinstance(node, yaml.MappingNode):
            break
        pairs = [(k, v) for k, v in node.value if getattr(k, "value", None) == key]
        if not pairs:
            break
        key_node, node = pairs[-1]  # the value YAML keeps when a key is repeated
        line = key_node.start_mark.line + 1
    return line


def short_hash(text: str, length: int = 6) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]
