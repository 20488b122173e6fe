"""The Pulumi project generator: one project per pipeline and profile, rendered from templates.

The generated program is short on purpose (it calls the components in ``mlcompile.infra``) and
passes literal, typed arguments, so a type checker over the program catches a wrong value before
any preview. This module imports no Pulumi provider: only the generated program does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2

from mlcompile.build import json_bytes, package_version
from mlcompile.errors import Diagnostic, UserError, ValidationError
from mlcompile.infra.requirements import Endpoint, derive
from mlcompile.ir import nodes as ir
from mlcompile.monitor.declaration import monitored_endpoints
from mlcompile.naming import (
    pipeline_project,
    platform_project,
    platform_scope,
    platform_stack_reference,
    resource_name,
    vertex_endpoint_id,
)
from mlcompile.platforms.sagemaker.instances import has_instance_storage
from mlcompile.profiles import Profile, short_hash

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
    instance_storage: bool
    endpoint_id: str


#: The p99 model latency above which an endpoint's latency alert fires.
LATENCY_P99_MS = 1000


#: The component modules each kind of program imports, copied into the project as the
#: package ``mlcompile_infra`` so it installs from the package index alone.
_COMPONENTS = {"aws": "aws.py", "gcp": "gcp.py", "azure": "azure.py"}
_VENDORED = "mlcompile_infra"


def generate(
    pipeline: ir.Pipeline, profile: Profile, siblings: Sequence[Profile] = ()
) -> dict[str, bytes]:
    """The two Pulumi projects ``pipeline`` on ``profile`` needs, by path relative to the infra
    folder: ``platform/`` (shared by every pipeline of the account and environment) and
    ``pipeline/`` (this pipeline's own). ``siblings`` are the other profiles that may share the
    platform stack (the profile's folder): its program serves them all, so generating it from
    any of them gives the same bytes."""
    files = {f"platform/{k}": v for k, v in generate_platform(profile, siblings).items()}
    files.update({f"pipeline/{k}": v for k, v in generate_pipeline(pipeline, profile).items()})
    return files


def scope_profiles(profile: Profile, siblings: Sequence[Profile]) -> list[Profile]:
    """The profiles whose pipelines share ``profile``'s platform stack, sorted by name."""
    scope = platform_scope(profile)
    found = {p.name: p for p in siblings if platform_scope(p) == scope}
    found[profile.name] = profile
    return [found[name] for name in sorted(found)]


def generate_platform(profile: Profile, siblings: Sequence[Profile] = ()) -> dict[str, bytes]:
    """The platform stack's project: keys, artifact store, registries, namespaces."""
    members = scope_profiles(profile, siblings)
    _check_scope(profile, members)
    namespaces = sorted(
        {resource_name(p, "namespace") for p in members if p.platform == "kubeflow"}
    )
    project = platform_project(profile)
    context: dict[str, Any] = {
        "cloud": profile.cloud,
        "account": profile.account,
        "region": profile.region,
        "environment": profile.environment,
        "profiles": [p.name for p in members],
        "tags": _shared_tags(members),
        "keep": profile.keep_stateful,
        "artifact_store": resource_name(profile, "artifact-store"),
        "container_registry": resource_name(profile, "container-registry"),
        "kms_key": resource_name(profile, "kms-key"),
        "existing_key": next((p.vertex.kms_key for p in members if p.vertex.kms_key), None),
        "resource_group": resource_name(profile, "resource-group"),
        "storage_identity": resource_name(profile, "storage-identity"),
        "alert_channel": resource_name(profile, "alert-channel"),
        "alert_emails": _alert_emails(members),
        "role_prefix": f"{profile.name_prefix}-{profile.environment}-",
        "namespaces": namespaces,
        "builder": _image_builder(profile, members),
        "ci": _ci_identity(profile, members, siblings),
        "promotion_readers": _promotion_readers(profile, members, siblings),
        "base": f"{profile.name_prefix}-{profile.environment}",
    }
    optional = _cluster_config() if namespaces else {}
    files = {
        "Pulumi.yaml": _render(
            "Pulumi.yaml.j2",
            title=f"The platform stack of {profile.cloud} {profile.account}",
            project=project,
            description=json.dumps(
                f"What every pipeline in {profile.cloud} {profile.account} shares, per environment"
            ),
        ),
        f"Pulumi.{profile.environment}.yaml": _settings(profile, optional),
        "__main__.py": _render(f"platform-{profile.cloud}.py.j2", **context),
        "requirements.txt": _render(
            "requirements.txt.j2", pins=_pins(profile.cloud, kubernetes=bool(namespaces))
        ),
        "stack.json": json_bytes(
            {
                "kind": "platform",
                "project": project,
                "stack": profile.environment,
                "cloud": profile.cloud,
                "region": profile.region,
                "account": profile.account,
                "environment": profile.environment,
                "profiles": context["profiles"],
                "outputs": [
                    *_platform_outputs(profile.cloud),
                    *(["permissions_boundary_arn"] if profile.cloud == "aws" else []),
                ],
                "optional_config": optional,
            }
        ),
    }
    extra = [
        *(["builders.py"] if context["builder"] else []),
        *(["ci_identity.py"] if context["ci"] or context["promotion_readers"] else []),
    ]
    files.update(_vendored(profile.cloud, kubernetes=bool(namespaces), extra=extra))
    return files


#: The builder each cloud's platform stack provisions for `mlcompile images` (ACR tasks need
#: the principal that starts them, so Azure's is granted by whoever owns that principal).
_STACK_BUILDERS = {"aws": "codebuild", "gcp": "cloudbuild"}


def _image_builder(profile: Profile, members: Sequence[Profile]) -> dict[str, str] | None:
    """The image builder the platform stack creates when a profile it serves builds there."""
    wanted = _STACK_BUILDERS.get(profile.cloud)
    if wanted is None or not any(p.images.builder == wanted for p in members):
        return None
    return {"name": resource_name(profile, "image-builder")}


def _ci_identity(
    profile: Profile, members: Sequence[Profile], siblings: Sequence[Profile] = ()
) -> dict[str, Any] | None:
    """The keyless CI identity of the environment, for the first profile that names the
    repository CI runs from (profiles without ``ci.repository`` deploy by hand)."""
    from mlcompile.infra.ci_identity import trust

    named = [p for p in members if p.ci.repository]
    if not named:
        return None
    first = named[0]
    return {
        "trust": dict(trust(first)),
        "name": resource_name(first, "ci-identity"),
        "base": f"{first.name_prefix}-{first.environment}",
        "pull_from": _promotion_sources(first, siblings),
    }


def _source_profile(profile: Profile, siblings: Sequence[Profile]) -> Profile | None:
    """The profile ``profile`` promotes images from (``ci.promote_from``), found beside it."""
    wanted = profile.ci.promote_from
    if wanted is None:
        return None
    found = [p for p in siblings if p.name == wanted]
    if not found or found[0].cloud != profile.cloud:
        raise UserError(
            Diagnostic(
                "MLC806",
                f"profile {profile.name} sets ci.promote_from: {wanted}, but no "
                f"{profile.cloud} profile of that name is beside it",
                None,
                f"name a {profile.cloud} profile in the same folder (the environment whose "
                "tested images this one promotes), or remove ci.promote_from",
            )
        )
    return found[0]


def _promotion_sources(profile: Profile, siblings: Sequence[Profile]) -> list[str]:
    """What the promoting CI identity reads from in its own policy or grants: an ECR
    repository ARN, or an ACR resource id (GCP grants on the source's side only)."""
    source = _source_profile(profile, siblings)
    if source is None or source.cloud == "gcp":
        return []
    registry = resource_name(source, "container-registry")
    if source.cloud == "aws":
        return [f"arn:aws:ecr:{source.region}:{source.account}:repository/{registry}"]
    return [
        f"/subscriptions/{source.account}/resourceGroups/{resource_name(source, 'resource-group')}"
        f"/providers/Microsoft.ContainerRegistry/registries/{registry}"
    ]


def _promotion_readers(
    profile: Profile, members: Sequence[Profile], siblings: Sequence[Profile]
) -> list[str]:
    """The CI identities (AWS role ARNs, GCP service accounts) of the environments that
    promote images from this stack's registry: exactly those whose profile names one of its
    members in ``ci.promote_from`` and is trusted from CI. Azure grants in the promoting stack."""
    if profile.cloud == "azure":
        return []
    served = {m.name for m in members}
    readers = set()
    for other in siblings:
        if other.ci.promote_from not in served or not other.ci.repository:
            continue
        _source_profile(other, [*siblings, *members])
        identity = resource_name(other, "ci-identity")
        if profile.cloud == "aws":
            readers.add(f"arn:aws:iam::{other.account}:role/{identity}")
        else:
            readers.add(f"{identity}@{other.account}.iam.gserviceaccount.com")
    return sorted(readers)


def generate_pipeline(pipeline: ir.Pipeline, profile: Profile) -> dict[str, bytes]:
    """The pipeline stack's project: the pipeline, schedule, model groups, endpoints, roles."""
    needs = derive(pipeline, profile)
    files: dict[str, bytes] = {}
    if profile.platform == "sagemaker":
        files["pipeline.json"] = _compiled(pipeline, profile, "pipeline.json")
    endpoints = [_served(profile, e) for e in needs.endpoints]
    optional = _optional_config(profile, endpoints)
    if profile.platform == "kubeflow" and monitored_endpoints(pipeline):
        optional["kfp-url"] = (
            f"the KFP API as pods in the namespace reach it, if not {KFP_IN_CLUSTER}"
        )
    reference = platform_stack_reference(profile)
    context: dict[str, Any] = {
        "pipeline": pipeline.name,
        "profile": profile.name,
        "summary": f"{_PLATFORM_LABEL[profile.platform]} on {profile.cloud}, {profile.region}",
        "platform_stack": reference,
        "needs": needs,
        "endpoints": endpoints,
        "endpoint_names": [e.name for e in endpoints],
        "account": profile.account,
        "region": profile.region,
        "environment": profile.environment,
        "cloud": profile.cloud,
        "tags": dict(sorted(profile.labels.items())),
        "keep": profile.keep_stateful,
        "role_arn": profile.sagemaker.role_arn,
        "schedule_role": resource_name(profile, "pipeline-identity", f"{pipeline.name}-schedule"),
        "serving_identity": resource_name(profile, "pipeline-identity", f"{pipeline.name}-serving"),
        "namespace": resource_name(profile, "namespace"),
        "resource_group": resource_name(profile, "resource-group"),
        "secrets_backend": profile.effective_secrets_backend,
        "failure_alert": resource_name(profile, "pipeline", f"{pipeline.name}-failed"),
        "latency_p99_ms": LATENCY_P99_MS,
        "monitors": _monitors(pipeline, profile),
        "monitor_image": monitor_image(profile),
        "kfp_url": KFP_IN_CLUSTER,
    }
    context["monitor_of"] = {m["endpoint"]: m for m in context["monitors"]}
    project = pipeline_project(profile, pipeline.name)
    files["Pulumi.yaml"] = _render(
        "Pulumi.yaml.j2",
        title=f"The Pulumi project of pipeline {pipeline.name} on profile {profile.name}",
        project=project,
        description=json.dumps(f"Infrastructure of pipeline {pipeline.name} ({profile.name})"),
    )
    files[f"Pulumi.{profile.environment}.yaml"] = _settings(profile, optional)
    files["__main__.py"] = _render(f"{profile.platform}.py.j2", **context)
    kubernetes = profile.platform == "kubeflow"
    files["requirements.txt"] = _render(
        "requirements.txt.j2", pins=_pins(profile.cloud, kubernetes=kubernetes)
    )
    drift = ["drift.py", "model_monitor.py", *_JOB_FILES] if context["monitors"] else []
    files["stack.json"] = json_bytes(
        {
            "kind": "pipeline",
            "project": project,
            "stack": profile.environment,
            "pipeline": pipeline.name,
            "profile": profile.name,
            "platform": profile.platform,
            "cloud": profile.cloud,
            "region": profile.region,
            "account": profile.account,
            "environment": profile.environment,
            "platform_stack": reference,
            "needs": needs.to_json(),
            "monitors": [
                {"endpoint": m["endpoint"], "names": m["names"]} for m in context["monitors"]
            ],
            "optional_config": optional,
            "secrets_backend": profile.effective_secrets_backend,
        }
    )
    files.update(_vendored(profile.cloud, kubernetes=kubernetes, extra=drift))
    return files


#: Platforms whose pipeline stack creates the drift monitors a pipeline declares (all of them:
#: SageMaker's Model Monitor, Vertex's Cloud Run job, Kubeflow's CronJob; see ``drift``).
_STACK_MONITORS = frozenset({"sagemaker", "vertex", "kubeflow"})
#: The KFP API inside a cluster where Kubeflow Pipelines is installed in ``kubeflow``.
KFP_IN_CLUSTER = "http://ml-pipeline.kubeflow.svc.cluster.local:8888"
#: The standard-library monitoring code a generated project ships for its monitoring jobs,
#: under ``mlcompile_infra/monitor_job/`` (drift.JOB_FOLDER).
_JOB_FILES = (
    "monitor_job/stats.py",
    "monitor_job/compare.py",
    "monitor_job/job.py",
    "monitor_job/sink.py",
)


def monitor_image(profile: Profile) -> str:
    """The image the monitoring job (and the Kubeflow sink) runs in: any with ``python3``; the
    profile's default image, else the slim Python steps use, named in full for Cloud Run."""
    from mlcompile.platforms.kubeflow.executors import SLIM_PYTHON

    image = profile.default_image or SLIM_PYTHON
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image if '/' in image else 'library/' + image}"


def _monitors(pipeline: ir.Pipeline, profile: Profile) -> list[dict[str, Any]]:
    if profile.platform not in _STACK_MONITORS:
        return []
    from mlcompile.monitor.stack import monitor_context

    return monitor_context(pipeline, profile)


def _check_scope(profile: Profile, members: Sequence[Profile]) -> None:
    """Profiles sharing a platform stack must agree on what it creates."""
    problems = []
    for other in members:
        for what, mine, theirs in (
            ("region", profile.region, other.region),
            ("protect_stateful", profile.keep_stateful, other.keep_stateful),
            ("vertex.kms_key", profile.vertex.kms_key, other.vertex.kms_key),
        ):
            if mine != theirs and (what != "vertex.kms_key" or (mine and theirs)):
                problems.append(
                    Diagnostic(
                        "MLC601",
                        f"profiles {profile.name} and {other.name} share the platform stack of "
                        f"{profile.cloud} {profile.account} ({profile.environment}) but set "
                        f"{what} to {mine!r} and {theirs!r}",
                        None,
                        f"give both the same {what}, or a different name_prefix so each gets "
                        "its own platform stack",
                    )
                )
    if problems:
        raise ValidationError(problems)


def _alert_emails(members: Sequence[Profile]) -> dict[str, str]:
    """Every address a profile of the platform stack has alerts mailed to, by a key derived from
    the address alone (adding or removing one leaves the others' resources as they are)."""
    addresses = {e.lower(): e for p in members for e in p.alerts.emails}
    return {short_hash(key, 8): addresses[key] for key in sorted(addresses)}


def _shared_tags(members: Sequence[Profile]) -> dict[str, str]:
    """The tags every profile of the platform stack agrees on (a shared resource belongs to all)."""
    common = dict(members[0].labels)
    for other in members[1:]:
        common = {k: v for k, v in common.items() if other.labels.get(k) == v}
    return dict(sorted(common.items()))


def _platform_outputs(cloud: str) -> tuple[str, ...]:
    """The outputs the platform program exports (each cloud module's ``PLATFORM_OUTPUTS``),
    read without importing a provider SDK."""
    import ast

    tree = ast.parse(_component_source(_COMPONENTS[cloud]))
    found: dict[str, tuple[str, ...]] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id in ("PLATFORM_OUTPUTS", "ALERT_OUTPUTS"):
                found[target.id] = tuple(str(v) for v in ast.literal_eval(node.value))
    if "PLATFORM_OUTPUTS" not in found:
        raise ValueError(f"no PLATFORM_OUTPUTS in {_COMPONENTS[cloud]}")
    # The alert channel's outputs, where the cloud's platform stack has one.
    return found["PLATFORM_OUTPUTS"] + found.get("ALERT_OUTPUTS", ())


def _component_source(name: str) -> bytes:
    if name.startswith("monitor_job/"):
        return (resources.files("mlcompile.monitor") / name.split("/", 1)[1]).read_bytes()
    return (resources.files("mlcompile.infra") / name).read_bytes()


def _vendored(cloud: str, *, kubernetes: bool, extra: Sequence[str] = ()) -> dict[str, bytes]:
    """The component modules the program imports, as the project's own package."""
    # Every AWS role carries the environment's permissions boundary.
    boundary = ["boundary.py"] if cloud == "aws" else []
    names = [_COMPONENTS[cloud], *boundary, *(["kubernetes.py"] if kubernetes else []), *extra]
    files = {
        f"{_VENDORED}/__init__.py": b'"""Pulumi components generated by mlcompile: the security '
        b'settings and logic the stacks share."""\n'
    }
    for name in names:
        files[f"{_VENDORED}/{name}"] = _component_source(name)
    return files


def _cluster_config() -> dict[str, str]:
    return {
        "kubeconfig": "path to (or contents of) the kubeconfig of the cluster (required)",
        "kube-context": "the kubeconfig context of the cluster to deploy to (required)",
    }


def _settings(profile: Profile, optional: dict[str, str]) -> bytes:
    return _render(
        "Pulumi.stack.yaml.j2",
        environment=profile.environment,
        profile=profile.name,
        config=[(k, json.dumps(v)) for k, v in _provider_config(profile)],
        optional=sorted(optional.items()),
    )


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
    instance_type = profile.instance_types.get("serving", default_type)
    return ServedEndpoint(
        endpoint=endpoint.endpoint,
        name=endpoint.name,
        model=endpoint.model,
        framework=endpoint.framework,
        role=resource_name(profile, "pipeline-identity", f"{endpoint.endpoint}-serving"),
        config_key=f"{endpoint.endpoint}-model-{'package' if profile.platform == 'sagemaker' else 'uri'}",
        instance_type=instance_type,
        min_replicas=endpoint.min_replicas,
        max_replicas=endpoint.max_replicas,
        cpu=f"{endpoint.cpu:g}" if endpoint.cpu else "1",
        memory=f"{endpoint.memory_bytes // 2**20}Mi" if endpoint.memory_bytes else "2Gi",
        error_alarm=resource_name(profile, "endpoint", f"{endpoint.endpoint}-5xx-errors"),
        latency_alarm=resource_name(profile, "endpoint", f"{endpoint.endpoint}-latency-p99"),
        instance_storage=has_instance_storage(instance_type),
        endpoint_id=vertex_endpoint_id(endpoint.name),
    )


def _optional_config(profile: Profile, endpoints: list[ServedEndpoint]) -> dict[str, str]:
    """Stack config keys the program reads that only the operator can know, and why."""
    keys: dict[str, str] = {
        "platform-stack": "the platform stack to read, if not the default "
        f"{platform_stack_reference(profile)} (e.g. ORG/PROJECT/STACK on Pulumi Cloud)"
    }
    if profile.platform != "kubeflow":
        # Neither needs a model version from the operator: the pipeline's deploy step creates
        # and updates a SageMaker endpoint (its one owner) and deploys to the Vertex endpoint
        # the stack creates.
        return keys
    keys.update(_cluster_config())
    for e in endpoints:
        keys[e.config_key] = f"storage URI of the model version endpoint {e.name} serves"
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


def _pins(cloud: str, *, kubernetes: bool) -> list[str]:
    packages = [("pulumi", ">=3.150,<4"), *_PROVIDERS[cloud]]
    if kubernetes:
        packages.append(_KUBERNETES)
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
