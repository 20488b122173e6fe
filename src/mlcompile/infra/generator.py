"""The Pulumi project generator: one project per pipeline and profile, rendered from templates.

The generated program is short on purpose (it calls the components in ``mlcompile.infra``) and
passes literal, typed arguments, so a type checker over the program catches a wrong value before
any preview. This module imports no Pulumi provider: only the generated program does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jinja2

from mlcompile.build import json_bytes, package_version
from mlcompile.errors import ValidationError
from mlcompile.infra.requirements import Endpoint, derive
from mlcompile.ir import nodes as ir
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile

#: The Pulumi provider packages each cloud's program imports, with the range to fall back to
#: when the package is not installed here (the project still names a working set).
_PROVIDERS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws": (("pulumi-aws", ">=7,<8"),),
    "gcp": (("pulumi-gcp", ">=10,<11"),),
    "azure": (("pulumi-azure-native", ">=3,<4"),),
}
_KUBERNETES = ("pulumi-kubernetes", ">=4,<5")
_PLATFORM_LABEL = {"sagemaker": "SageMaker", "vertex": "Vertex AI", "kubeflow": "Kubeflow"}


@dataclass(frozen=True)
class ServedEndpoint:
    """An endpoint as the templates need it: names, the config key for the version to serve."""

    endpoint: str
    name: str
    model: str
    framework: str
    role: str
    config_key: str
    instance_type: str
    min_replicas: int
    max_replicas: int
    cpu: str
    memory: str
    error_alarm: str
    latency_alarm: str


#: The p99 model latency above which an endpoint's latency alert fires.
LATENCY_P99_MS = 1000


def generate(pipeline: ir.Pipeline, profile: Profile) -> dict[str, bytes]:
    """The files of the Pulumi project for ``pipeline`` on ``profile``, by relative path."""
    needs = derive(pipeline, profile)
    files: dict[str, bytes] = {}
    if profile.platform == "sagemaker":
        files["pipeline.json"] = _compiled(pipeline, profile, "pipeline.json")
    endpoints = [_served(profile, e) for e in needs.endpoints]
    optional = _optional_config(profile, endpoints)
    context: dict[str, Any] = {
        "pipeline": pipeline.name,
        "profile": profile.name,
        "summary": f"{_PLATFORM_LABEL[profile.platform]} on {profile.cloud}, {profile.region}",
        "needs": needs,
        "endpoints": endpoints,
        "endpoint_names": [e.name for e in endpoints],
        "account": profile.account,
        "region": profile.region,
        "environment": profile.environment,
        "cloud": profile.cloud,
        "tags": dict(sorted(profile.labels.items())),
        "role_arn": profile.sagemaker.role_arn,
        "kms_key": profile.vertex.kms_key,
        "schedule_role": resource_name(profile, "pipeline-identity", f"{pipeline.name}-schedule"),
        "namespace": resource_name(profile, "namespace"),
        "resource_group": resource_name(profile, "resource-group"),
        "storage_identity": resource_name(profile, "pipeline-identity", "storage"),
        "secrets_backend": profile.effective_secrets_backend,
        "alert_topic": resource_name(profile, "pipeline", f"{pipeline.name}-alerts"),
        "failure_alert": resource_name(profile, "pipeline", f"{pipeline.name}-failed"),
        "latency_p99_ms": LATENCY_P99_MS,
        "alarm_names": sorted(n for e in endpoints for n in (e.error_alarm, e.latency_alarm)),
    }
    project = needs.pipeline_name
    files["Pulumi.yaml"] = _render(
        "Pulumi.yaml.j2",
        pipeline=pipeline.name,
        profile=profile.name,
        project=project,
        description=json.dumps(f"Infrastructure of pipeline {pipeline.name} ({profile.name})"),
    )
    files[f"Pulumi.{profile.environment}.yaml"] = _render(
        "Pulumi.stack.yaml.j2",
        environment=profile.environment,
        profile=profile.name,
        config=[(k, json.dumps(v)) for k, v in _provider_config(profile)],
        optional=sorted(optional.items()),
    )
    files["__main__.py"] = _render(f"{profile.platform}.py.j2", **context)
    files["requirements.txt"] = _render("requirements.txt.j2", pins=_pins(profile))
    files["stack.json"] = json_bytes(
        {
            "pipeline": pipeline.name,
            "profile": profile.name,
            "platform": profile.platform,
            "cloud": profile.cloud,
            "region": profile.region,
            "account": profile.account,
            "environment": profile.environment,
            "needs": needs.to_json(),
            "optional_config": optional,
            "secrets_backend": profile.effective_secrets_backend,
        }
    )
    return files


def _compiled(pipeline: ir.Pipeline, profile: Profile, name: str) -> bytes:
    """One file of the platform's compiled spec, which the stack deploys as is."""
    from mlcompile import platforms

    platform = platforms.get(profile.platform)
    problems = [d for d in platform.check(pipeline, profile) if d.severity == "error"]
    if problems:
        raise ValidationError(problems)
    return platform.compile(pipeline, profile).files[name]


def _served(profile: Profile, endpoint: Endpoint) -> ServedEndpoint:
    gpu = endpoint.gpu > 0
    default_type = {
        "aws": "ml.g4dn.xlarge" if gpu else "ml.m5.large",
        "gcp": "n1-standard-4" if gpu else "n1-standard-2",
        "azure": "",
    }[profile.cloud]
    return ServedEndpoint(
        endpoint=endpoint.endpoint,
        name=endpoint.name,
        model=endpoint.model,
        framework=endpoint.framework,
        role=resource_name(profile, "pipeline-identity", f"{endpoint.endpoint}-serving"),
        config_key=f"{endpoint.endpoint}-model-{'package' if profile.platform == 'sagemaker' else 'uri'}",
        instance_type=profile.instance_types.get("serving", default_type),
        min_replicas=endpoint.min_replicas,
        max_replicas=endpoint.max_replicas,
        cpu=f"{endpoint.cpu:g}" if endpoint.cpu else "1",
        memory=f"{endpoint.memory_bytes // 2**20}Mi" if endpoint.memory_bytes else "2Gi",
        error_alarm=resource_name(profile, "endpoint", f"{endpoint.endpoint}-5xx-errors"),
        latency_alarm=resource_name(profile, "endpoint", f"{endpoint.endpoint}-latency-p99"),
    )


def _optional_config(profile: Profile, endpoints: list[ServedEndpoint]) -> dict[str, str]:
    """Stack config keys the program reads that only the operator can know, and why."""
    keys: dict[str, str] = {}
    if profile.platform == "vertex":
        return keys
    for e in endpoints:
        keys[e.config_key] = (
            f"ARN of the approved model package endpoint {e.name} serves"
            if profile.platform == "sagemaker"
            else f"storage URI of the model version endpoint {e.name} serves"
        )
    if profile.platform == "kubeflow" and profile.cloud in ("aws", "azure"):
        keys["oidc-issuer"] = (
            "the cluster's OIDC issuer host and path (required), e.g. oidc.eks.REGION.amazonaws.com/id/ID"
            if profile.cloud == "aws"
            else "the AKS cluster's OIDC issuer URL (required)"
        )
    if profile.platform == "kubeflow" and profile.cloud == "gcp":
        keys["workload-pool"] = "the GKE workload identity pool, default PROJECT.svc.id.goog"
    return keys


def _provider_config(profile: Profile) -> list[tuple[str, object]]:
    """Provider settings that pin the stack to the profile's account and region."""
    if profile.cloud == "aws":
        return [("aws:region", profile.region), ("aws:allowedAccountIds", [profile.account])]
    if profile.cloud == "gcp":
        return [("gcp:project", profile.account), ("gcp:region", profile.region)]
    return [
        ("azure-native:location", profile.region),
        ("azure-native:subscriptionId", profile.account),
    ]


def _pins(profile: Profile) -> list[str]:
    packages = [("pulumi", ">=3.150,<4"), *_PROVIDERS[profile.cloud]]
    if profile.platform == "kubeflow":
        packages.append(_KUBERNETES)
    packages.append(("mlcompile", ""))
    pins = []
    for name, fallback in packages:
        installed = package_version(name)
        pins.append(f"{name}=={installed}" if installed else f"{name}{fallback}")
    return pins


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("mlcompile.infra", "templates"),
    autoescape=False,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _python_literal(value: object) -> str:
    """A Python literal with double-quoted strings, as the formatter writes them."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{_python_literal(k)}: {_python_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


_ENVIRONMENT.filters["py"] = _python_literal


def _render(template: str, **context: Any) -> bytes:
    return _ENVIRONMENT.get_template(template).render(**context).encode()


def keep_user_settings(generated: bytes, existing: bytes) -> bytes:
    """The generated stack settings over an existing file's: keys the user set (model versions,
    an OIDC issuer) and Pulumi's own (an encryption salt) are kept; ours are refreshed."""
    import yaml

    fresh, old = yaml.safe_load(generated) or {}, yaml.safe_load(existing) or {}
    merged = {
        **old,
        **fresh,
        "config": {**(old.get("config") or {}), **(fresh.get("config") or {})},
    }
    if merged == old:
        return existing
    header = b"".join(line + b"\n" for line in generated.splitlines() if line.startswith(b"#"))
    return header + yaml.safe_dump(merged, sort_keys=True).encode()
