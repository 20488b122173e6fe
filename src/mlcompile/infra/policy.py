"""Security rules every generated stack must pass, checked over the resources it registers.

The rules read resources as the Pulumi engine sees them (type token, name, wire-format inputs),
so they run on a mocked program in tests and could run on a preview's resources as well:
encryption at rest with customer-managed keys (alert topics included), public access blocked,
TLS only, versioning, no wildcard IAM actions or unscoped resources, an error alarm on every
endpoint, and no secret value in any input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlcompile.platforms.sagemaker.instances import has_instance_storage


@dataclass(frozen=True)
class Resource:
    """One registered resource: its type token, logical name and inputs, the provider it was
    registered with (empty: the engine's default provider) and its resource options."""

    type: str
    name: str
    inputs: Mapping[str, Any]
    provider: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    custom: bool = True


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.resource}: {self.message}"


#: Actions AWS does not let a policy scope to a resource; they are the only ``"*"`` resources.
UNSCOPABLE_ACTIONS = frozenset(
    {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "sagemaker:ListEndpoints"}
)
#: GCP basic roles and Azure's broad built-in roles: the cloud equivalents of ``"*"``.
BROAD_ROLES = frozenset(
    {
        "roles/owner",
        "roles/editor",
        "roles/viewer",
        "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
        "b24988ac-6180-42a0-ab88-4e6e0ee5d8cf",  # Contributor
    }
)
_SECRET_PATTERNS = (
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(?i)(password|passwd|secret|token|api_?key)\s*=\s*\S{6,}"),
    re.compile(r"ghp_[A-Za-z0-9]{30,}"),
    re.compile(r"xox[bap]-[A-Za-z0-9-]{10,}"),
)
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@?*+=,-]*$")


def _by_type(resources: Sequence[Resource], token: str) -> list[Resource]:
    return [r for r in resources if r.type == token]


def _targets(resources: Sequence[Resource], token: str, bucket: str) -> list[Resource]:
    return [r for r in _by_type(resources, token) if r.inputs.get("bucket") == bucket]


def _label(resource: Resource) -> str:
    return f"{resource.type} {resource.name}"


def encryption(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Data at rest is encrypted with a customer-managed key, and that key rotates."""
    rule = "encryption-cmk"
    for bucket in _by_type(resources, "aws:s3/bucket:Bucket"):
        configs = _targets(
            resources,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            bucket.inputs.get("bucket", ""),
        )
        defaults = [
            rule_.get("applyServerSideEncryptionByDefault", {})
            for c in configs
            for rule_ in c.inputs.get("rules", [])
        ]
        if not any(
            d.get("sseAlgorithm") == "aws:kms" and d.get("kmsMasterKeyId") for d in defaults
        ):
            yield Violation(rule, _label(bucket), "no default encryption with a KMS key")
    for key in _by_type(resources, "aws:kms/key:Key"):
        if key.inputs.get("enableKeyRotation") is not True:
            yield Violation(rule, _label(key), "key rotation is off")
    checks: dict[str, Callable[[Mapping[str, Any]], bool]] = {
        "aws:ecr/repository:Repository": lambda i: any(
            c.get("encryptionType") == "KMS" and c.get("kmsKey")
            for c in i.get("encryptionConfigurations", [])
        ),
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration": lambda i: bool(
            (i.get("kmsKeyArn") or _local_storage_only(i))
            and i.get("dataCaptureConfig", {}).get("kmsKeyId")
        ),
        "aws:sns/topic:Topic": lambda i: (
            bool(i.get("kmsMasterKeyId")) and i.get("kmsMasterKeyId") != "alias/aws/sns"
        ),
        "gcp:pubsub/topic:Topic": lambda i: bool(i.get("kmsKeyName")),
        "aws:scheduler/schedule:Schedule": lambda i: bool(i.get("kmsKeyArn")),
        "gcp:storage/bucket:Bucket": lambda i: bool(
            i.get("encryption", {}).get("defaultKmsKeyName")
        ),
        "gcp:artifactregistry/repository:Repository": lambda i: bool(i.get("kmsKeyName")),
        "gcp:bigquery/dataset:Dataset": lambda i: bool(
            i.get("defaultEncryptionConfiguration", {}).get("kmsKeyName")
        ),
        "gcp:vertex/aiEndpoint:AiEndpoint": lambda i: bool(
            i.get("encryptionSpec", {}).get("kmsKeyName")
        ),
        "gcp:kms/cryptoKey:CryptoKey": lambda i: bool(i.get("rotationPeriod")),
        "azure-native:storage:StorageAccount": lambda i: (
            i.get("encryption", {}).get("keySource") == "Microsoft.Keyvault"
        ),
        "azure-native:containerregistry:Registry": lambda i: (
            i.get("encryption", {}).get("status") == "enabled"
        ),
        "azure-native:keyvault:Key": lambda i: bool(
            i.get("properties", {}).get("rotationPolicy", {}).get("lifetimeActions")
        ),
    }
    for resource in resources:
        check = checks.get(resource.type)
        if check is not None and not check(resource.inputs):
            yield Violation(
                rule, _label(resource), "not encrypted with a rotating customer-managed key"
            )


def _local_storage_only(inputs: Mapping[str, Any]) -> bool:
    """Every variant runs on instances whose local NVMe storage the hardware encrypts, where
    SageMaker refuses a volume key."""
    variants = inputs.get("productionVariants", [])
    return bool(variants) and all(
        has_instance_storage(str(v.get("instanceType", ""))) for v in variants
    )


def public_access(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Nothing is readable without credentials, and no shared admin credentials exist."""
    rule = "public-access-blocked"
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    for bucket in _by_type(resources, "aws:s3/bucket:Bucket"):
        blocks = _targets(
            resources,
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            bucket.inputs.get("bucket", ""),
        )
        if not any(all(b.inputs.get(f) is True for f in flags) for b in blocks):
            yield Violation(rule, _label(bucket), "not all four public access blocks are on")
    checks: dict[str, Callable[[Mapping[str, Any]], bool]] = {
        "gcp:storage/bucket:Bucket": lambda i: (
            i.get("publicAccessPrevention") == "enforced"
            and i.get("uniformBucketLevelAccess") is True
        ),
        "azure-native:storage:StorageAccount": lambda i: (
            i.get("allowBlobPublicAccess") is False and i.get("allowSharedKeyAccess") is False
        ),
        "azure-native:storage:BlobContainer": lambda i: i.get("publicAccess") == "None",
        "azure-native:containerregistry:Registry": lambda i: (
            i.get("adminUserEnabled") is False and i.get("anonymousPullEnabled") is False
        ),
    }
    for resource in resources:
        check = checks.get(resource.type)
        if check is not None and not check(resource.inputs):
            yield Violation(rule, _label(resource), "public or shared-key access is possible")


def tls_only(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Data moves only over TLS (GCS accepts nothing else, so it needs no setting)."""
    rule = "tls-only"
    for bucket in _by_type(resources, "aws:s3/bucket:Bucket"):
        policies = _targets(
            resources, "aws:s3/bucketPolicy:BucketPolicy", bucket.inputs.get("bucket", "")
        )
        if not any(_denies_plain_http(p.inputs.get("policy", "")) for p in policies):
            yield Violation(rule, _label(bucket), "no policy denies aws:SecureTransport=false")
    for account in _by_type(resources, "azure-native:storage:StorageAccount"):
        inputs = account.inputs
        if inputs.get("enableHttpsTrafficOnly") is not True or inputs.get(
            "minimumTlsVersion"
        ) not in ("TLS1_2", "TLS1_3"):
            yield Violation(rule, _label(account), "plain HTTP or TLS below 1.2 is allowed")


def _denies_plain_http(policy: str) -> bool:
    for statement in json.loads(policy).get("Statement", []):
        condition = statement.get("Condition", {}).get("Bool", {})
        if statement.get("Effect") == "Deny" and condition.get("aws:SecureTransport") == "false":
            return True
    return False


def versioning(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Every artifact store keeps earlier versions, so an overwrite can be undone."""
    rule = "versioning"
    for bucket in _by_type(resources, "aws:s3/bucket:Bucket"):
        configs = _targets(
            resources, "aws:s3/bucketVersioning:BucketVersioning", bucket.inputs.get("bucket", "")
        )
        if not any(
            c.inputs.get("versioningConfiguration", {}).get("status") == "Enabled" for c in configs
        ):
            yield Violation(rule, _label(bucket), "versioning is not enabled")
    for bucket in _by_type(resources, "gcp:storage/bucket:Bucket"):
        if bucket.inputs.get("versioning", {}).get("enabled") is not True:
            yield Violation(rule, _label(bucket), "versioning is not enabled")
    accounts = _by_type(resources, "azure-native:storage:StorageAccount")
    services = _by_type(resources, "azure-native:storage:BlobServiceProperties")
    if accounts and not any(s.inputs.get("isVersioningEnabled") is True for s in services):
        for account in accounts:
            yield Violation(rule, _label(account), "blob versioning is not enabled")


def least_privilege(resources: Sequence[Resource]) -> Iterator[Violation]:
    """No wildcard actions, no ``"*"`` resource an action could be scoped to, no broad roles."""
    rule = "least-privilege"
    for resource in resources:
        key_policy = resource.type == "aws:kms/key:Key"
        for document in _policy_documents(resource):
            for statement in _statements(document):
                if statement.get("Effect") != "Allow":
                    continue
                actions = _as_list(statement.get("Action", []))
                for action in actions:
                    if "*" in action and not (key_policy and _account_root(statement)):
                        yield Violation(rule, _label(resource), f"wildcard action {action!r}")
                # In a key policy, resource "*" is the key itself.
                if (
                    "*" in _as_list(statement.get("Resource", []))
                    and not key_policy
                    and not set(actions) <= UNSCOPABLE_ACTIONS
                ):
                    yield Violation(
                        rule,
                        _label(resource),
                        f"resource '*' for scopable actions {sorted(actions)}",
                    )
        role = str(resource.inputs.get("role") or resource.inputs.get("roleDefinitionId") or "")
        if resource.type.endswith(("IAMMember", "IamMember", ":RoleAssignment")) and (
            role in BROAD_ROLES or role.rsplit("/", 1)[-1] in BROAD_ROLES
        ):
            yield Violation(rule, _label(resource), f"broad role {role}")
        if resource.type in ("kubernetes:rbac.authorization.k8s.io/v1:Role",):
            for k8s_rule in resource.inputs.get("rules", []):
                if "*" in k8s_rule.get("verbs", []) or "*" in k8s_rule.get("resources", []):
                    yield Violation(rule, _label(resource), "wildcard verb or resource")


def _account_root(statement: Mapping[str, Any]) -> bool:
    """The statement delegates a key to its account's IAM policies (the default key policy)."""
    principal = statement.get("Principal", {})
    root = principal.get("AWS", "") if isinstance(principal, Mapping) else ""
    return (
        isinstance(root, str) and re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:root", root) is not None
    )


def endpoint_alarms(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Every endpoint a stack creates, or lets its pipeline create, has an alarm on its errors
    that notifies someone. KServe endpoints are not covered: the stack builds no alerting for
    them (that needs the Prometheus operator and a metric that depends on the serving mode)."""
    rule = "endpoint-error-alarm"
    alarmed = {
        str(alarm.inputs.get("dimensions", {}).get("EndpointName"))
        for alarm in _by_type(resources, "aws:cloudwatch/metricAlarm:MetricAlarm")
        if alarm.inputs.get("metricName") == "Invocation5XXErrors"
        and alarm.inputs.get("alarmActions")
    }
    for name, where in sorted(_sagemaker_endpoints(resources).items()):
        if name not in alarmed:
            yield Violation(rule, where, f"endpoint {name} has no 5XX error alarm with an action")
    filters = [
        str(condition.get("conditionThreshold", {}).get("filter", ""))
        for policy in _by_type(resources, "gcp:monitoring/alertPolicy:AlertPolicy")
        if policy.inputs.get("notificationChannels")
        for condition in policy.inputs.get("conditions", [])
    ]
    for endpoint in _by_type(resources, "gcp:vertex/aiEndpoint:AiEndpoint"):
        match = f'resource.labels.endpoint_id="{endpoint.inputs.get("name")}"'
        if not any("prediction/online/error_count" in f and match in f for f in filters):
            yield Violation(
                rule, _label(endpoint), "no prediction error alert with a notification channel"
            )


def _sagemaker_endpoints(resources: Sequence[Resource]) -> dict[str, str]:
    """SageMaker endpoints by name: those the stack creates, and those a role may create (the
    pipeline's deploy step creates them after the stack is up)."""
    found = {
        str(e.inputs.get("name")): _label(e)
        for e in _by_type(resources, "aws:sagemaker/endpoint:Endpoint")
    }
    for resource in resources:
        for document in _policy_documents(resource):
            for statement in _statements(document):
                if statement.get("Effect") != "Allow" or "sagemaker:CreateEndpoint" not in (
                    _as_list(statement.get("Action", []))
                ):
                    continue
                for arn in _as_list(statement.get("Resource", [])):
                    kind, _, name = arn.rpartition(":")[2].partition("/")
                    if kind == "endpoint" and "*" not in name:
                        found.setdefault(name, _label(resource))
    return found


def _policy_documents(resource: Resource) -> Iterator[Mapping[str, Any]]:
    if not resource.type.startswith("aws:"):
        return
    for key in ("policy", "assumeRolePolicy"):
        text = resource.inputs.get(key)
        if isinstance(text, str) and text.startswith("{"):
            yield json.loads(text)


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def make_no_secret_values(
    known: Iterable[str],
) -> Callable[[Sequence[Resource]], Iterator[Violation]]:
    """A rule that no input holds a known secret value or something shaped like a credential,
    that no Kubernetes Secret carries data, and that secret references are names or ARNs."""
    values = tuple(v for v in known if v)

    def no_secret_values(resources: Sequence[Resource]) -> Iterator[Violation]:
        rule = "no-secret-values"
        for resource in resources:
            for text in _strings(resource.inputs):
                if any(v in text for v in values) or any(p.search(text) for p in _SECRET_PATTERNS):
                    yield Violation(rule, _label(resource), "an input holds a secret value")
                    break
            if resource.type == "kubernetes:core/v1:Secret" and (
                resource.inputs.get("data") or resource.inputs.get("stringData")
            ):
                yield Violation(rule, _label(resource), "a Kubernetes Secret carries values")
            for reference in _secret_references(resource):
                if not _REFERENCE.match(reference):
                    yield Violation(
                        rule, _label(resource), f"secret reference {reference!r} is not a name"
                    )

    return no_secret_values


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _secret_references(resource: Resource) -> Iterator[str]:
    if resource.type == "gcp:secretmanager/secretIamMember:SecretIamMember":
        yield str(resource.inputs.get("secretId", ""))
    for document in _policy_documents(resource):
        for statement in _statements(document):
            if any(a.startswith("secretsmanager:") for a in _as_list(statement.get("Action", []))):
                yield from _as_list(statement.get("Resource", []))


#: Resources that hold data (or keys to it): deleting one loses what no stack can recreate.
STATEFUL = frozenset(
    {
        "aws:s3/bucket:Bucket",
        "aws:kms/key:Key",
        "aws:ecr/repository:Repository",
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup",
        "gcp:storage/bucket:Bucket",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:artifactregistry/repository:Repository",
        "gcp:bigquery/dataset:Dataset",
        "kubernetes:core/v1:PersistentVolumeClaim",
        "azure-native:resources:ResourceGroup",
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
        "azure-native:storage:StorageAccount",
        "azure-native:storage:BlobContainer",
        "azure-native:containerregistry:Registry",
    }
)
#: Keys that only encrypt alerts in flight: replacing one loses nothing.
_EPHEMERAL_KEYS = re.compile(r"(^|-)alerts-key$")


def protected_in_production(resources: Sequence[Resource]) -> Iterator[Violation]:
    """In production, every resource that holds data is protected (``pulumi destroy`` and a
    replacement stop at it) and retained if the stack ever lets go of it."""
    rule = "protected-in-production"
    for resource in resources:
        if resource.type not in STATEFUL or _EPHEMERAL_KEYS.search(resource.name):
            continue
        missing = [k for k in ("protect", "retain_on_delete") if not resource.options.get(k)]
        if missing:
            yield Violation(rule, _label(resource), f"holds data but is not {' or '.join(missing)}")


#: Where a resource type keeps the physical name the stack gives it explicitly.
PHYSICAL_NAME: dict[str, str] = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:kms/alias:Alias": "name",
    "aws:ecr/repository:Repository": "name",
    "aws:iam/role:Role": "name",
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": "modelPackageGroupName",
    "aws:sagemaker/pipeline:Pipeline": "pipelineName",
    "aws:scheduler/schedule:Schedule": "name",
    "aws:sns/topic:Topic": "name",
    "aws:cloudwatch/eventRule:EventRule": "name",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
    "gcp:storage/bucket:Bucket": "name",
    "gcp:artifactregistry/repository:Repository": "repositoryId",
    "gcp:serviceaccount/account:Account": "accountId",
    "gcp:vertex/aiEndpoint:AiEndpoint": "name",
    "gcp:cloudscheduler/job:Job": "name",
    "gcp:pubsub/topic:Topic": "name",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
    "azure-native:monitor:ActionGroup": "actionGroupName",
    "azure-native:monitor:ActivityLogAlert": "activityLogAlertName",
}
#: Named resources that need no delete-first replacement, and why: only a change of the name
#: itself replaces them (every other input updates in place), so a replacement never reuses
#: the old name. From each provider's schema (properties marked "forces replacement").
REPLACED_ONLY_BY_RENAME: dict[str, str] = {
    "aws:iam/role:Role": "the trust and inline policies update in place",
    "aws:sagemaker/pipeline:Pipeline": "UpdatePipeline takes a new definition and role",
    "aws:scheduler/schedule:Schedule": "UpdateSchedule takes every setting but the name",
    "aws:cloudwatch/eventRule:EventRule": "PutRule updates the pattern in place",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "PutMetricAlarm updates the alarm in place",
    "gcp:serviceaccount/account:Account": "display name and description update in place",
    "gcp:cloudscheduler/job:Job": "the schedule and target update in place",
}


def replaced_safely(resources: Sequence[Resource]) -> Iterator[Violation]:
    """A resource with an explicit physical name that a stack may replace is deleted before
    its replacement is created (``delete_before_replace``), or is listed in
    ``REPLACED_ONLY_BY_RENAME`` with the reason no replacement can reuse its name: otherwise
    the replacement is created first and collides with the name it is replacing. Protected
    resources are exempt (a replacement stops at them). Kubernetes objects are too: when
    ``metadata.name`` is set and the name and namespace stay, the provider's Diff answers
    DeleteBeforeReplace itself (pulumi-kubernetes, provider/pkg/provider/provider.go:
    https://github.com/pulumi/pulumi-kubernetes/blob/master/provider/pkg/provider/provider.go);
    in another namespace the new object cannot collide with the old."""
    rule = "replaced-safely"
    for resource in resources:
        key = PHYSICAL_NAME.get(resource.type)
        if key is None or key not in resource.inputs or resource.type in REPLACED_ONLY_BY_RENAME:
            continue
        if resource.options.get("protect") or resource.options.get("delete_before_replace"):
            continue
        yield Violation(
            rule,
            _label(resource),
            f"named {resource.inputs[key]!r} but a replacement would be created before the old "
            "one is deleted (set delete_before_replace)",
        )


def explicit_providers(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Every cloud and cluster resource names its provider: none falls back to the engine's
    default provider, which takes the ambient credentials, region or kubeconfig context."""
    rule = "explicit-provider"
    for resource in resources:
        if not resource.custom or resource.type.startswith("pulumi:"):
            continue
        if not resource.provider or "::default" in resource.provider:
            yield Violation(rule, _label(resource), "uses the default (ambient) provider")


_OBJECT_WRITES = frozenset({"s3:PutObject", "s3:DeleteObject", "s3:*", "*"})
#: GCP roles that write objects; granted on a bucket they must exclude the code bundles.
_GCS_WRITERS = frozenset(
    {
        "roles/storage.objectAdmin",
        "roles/storage.objectCreator",
        "roles/storage.objectUser",
        "roles/storage.admin",
    }
)


def _covers_code(resource: str) -> bool:
    """Whether an S3 resource pattern reaches ``code/``: every object of a bucket (or of every
    bucket) does, one named prefix such as ``image-contexts/*`` does not."""
    if resource == "*":
        return True
    path = resource.removeprefix("arn:aws:s3:::")
    return (path.endswith("/*") and "/" not in path[:-2]) or path.endswith("*/*")


def no_code_writes(resources: Sequence[Resource]) -> Iterator[Violation]:
    """No pipeline, schedule or serving identity may write code bundles (``code/``): a role
    that writes objects by wildcard denies ``code/*``, and a GCS write grant is conditioned to
    exclude it. Only deploy's identity, granted ``code/*`` by name, uploads bundles."""
    rule = "no-code-writes"
    for resource in resources:
        if resource.type == "aws:iam/rolePolicy:RolePolicy":
            for document in _policy_documents(resource):
                statements = _statements(document)
                denied = any(
                    s.get("Effect") == "Deny"
                    and {"s3:PutObject", "s3:DeleteObject"} <= set(_as_list(s.get("Action", [])))
                    and any(str(r).endswith("/code/*") for r in _as_list(s.get("Resource", [])))
                    for s in statements
                )
                wildcard = any(
                    s.get("Effect", "Allow") == "Allow"
                    and _OBJECT_WRITES & set(_as_list(s.get("Action", [])))
                    and any(_covers_code(str(r)) for r in _as_list(s.get("Resource", [])))
                    for s in statements
                )
                if wildcard and not denied:
                    yield Violation(
                        rule, _label(resource), "writes objects by wildcard without denying code/*"
                    )
        if (
            resource.type == "gcp:storage/bucketIAMMember:BucketIAMMember"
            and resource.inputs.get("role") in _GCS_WRITERS
        ):
            expression = str((resource.inputs.get("condition") or {}).get("expression", ""))
            excludes_code = (
                "!resource.name.startsWith(" in expression and "/objects/code/" in expression
            )
            # Deploy's own grant names the prefixes it uploads to, and nothing else.
            only_prefixes = "resource.name.startsWith(" in expression and all(
                part.strip().startswith("resource.name.startsWith(")
                for part in expression.split("||")
            )
            if not (excludes_code or only_prefixes):
                yield Violation(
                    rule, _label(resource), "grants object writes without excluding code/"
                )


def serving_identity_separate(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Models are served as their own service account, declared in the stack, and never as the
    pipeline's (the identity bound to deploy InferenceServices, which writes artifacts)."""
    rule = "serving-identity-separate"
    accounts = {
        str((r.inputs.get("metadata") or {}).get("name"))
        for r in _by_type(resources, "kubernetes:core/v1:ServiceAccount")
    }
    deployers = {
        str(subject.get("name"))
        for binding in _by_type(resources, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
        for subject in binding.inputs.get("subjects") or []
        if subject.get("kind") == "ServiceAccount"
    }
    for service in resources:
        if service.inputs.get("kind") != "InferenceService":
            continue
        predictor = (service.inputs.get("spec") or {}).get("predictor") or {}
        account = str(predictor.get("serviceAccountName", ""))
        if not account or account not in accounts:
            yield Violation(rule, _label(service), "serves as no service account of the stack")
        elif account in deployers:
            yield Violation(
                rule, _label(service), f"serves as {account}, the pipeline's deploying identity"
            )


def permissions_boundary(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Every AWS role carries its environment's permissions boundary, which is the only policy
    allowed to grant by ``NotAction`` (a ceiling, intersected with each role's own policy)."""
    rule = "permissions-boundary"
    for resource in _by_type(resources, "aws:iam/role:Role"):
        boundary = str(resource.inputs.get("permissionsBoundary") or "")
        if not re.fullmatch(
            r"arn:aws:iam::\d{12}:policy/[a-z][a-z0-9]*-[a-z][a-z0-9]*-boundary", boundary
        ):
            yield Violation(
                rule, _label(resource), f"no environment permissions boundary ({boundary!r})"
            )
    for resource in resources:
        ceiling = resource.type == "aws:iam/policy:Policy" and str(
            resource.inputs.get("name", "")
        ).endswith("-boundary")
        for document in _policy_documents(resource):
            for statement in _statements(document):
                if statement.get("Effect") == "Allow" and "NotAction" in statement and not ceiling:
                    yield Violation(rule, _label(resource), "NotAction outside the boundary")
                # CI creating or empowering a role must attach the boundary.
                actions = set(_as_list(statement.get("Action", [])))
                bounded = {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"}
                if statement.get("Effect") == "Allow" and actions & bounded:
                    condition = statement.get("Condition", {}).get("StringEquals", {})
                    if not str(condition.get("iam:PermissionsBoundary", "")).endswith("-boundary"):
                        yield Violation(
                            rule,
                            _label(resource),
                            f"{sorted(actions & bounded)} without the boundary",
                        )


Rule = Callable[[Sequence[Resource]], Iterator[Violation]]
RULES: tuple[Rule, ...] = (
    encryption,
    public_access,
    tls_only,
    versioning,
    least_privilege,
    endpoint_alarms,
    explicit_providers,
    no_code_writes,
    serving_identity_separate,
    replaced_safely,
    permissions_boundary,
)
PRODUCTION_RULES: tuple[Rule, ...] = (protected_in_production,)


def check(
    resources: Sequence[Resource], known_secrets: Iterable[str] = (), *, production: bool = False
) -> list[Violation]:
    """Every violation of every rule, in a stable order; ``production`` adds the rules of a
    production stack (what holds data is protected and retained)."""
    rules = (
        *RULES,
        make_no_secret_values(known_secrets),
        *(PRODUCTION_RULES if production else ()),
    )
    return sorted(
        (v for rule in rules for v in rule(resources)),
        key=lambda v: (v.rule, v.resource, v.message),
    )
