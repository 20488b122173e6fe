"""Each policy rule catches a deliberately bad resource."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from mlcompile.infra.policy import Resource, check


def _bucket_with(**overrides: Any) -> list[Resource]:
    """A compliant S3 bucket and its side resources, with some of them replaced."""
    b = "bkt"
    parts = {
        "bucket": Resource(
            "aws:s3/bucket:Bucket", "b", {"bucket": b}, options={"delete_before_replace": True}
        ),
        "sse": Resource(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "sse",
            {
                "bucket": b,
                "rules": [
                    {
                        "applyServerSideEncryptionByDefault": {
                            "sseAlgorithm": "aws:kms",
                            "kmsMasterKeyId": "k",
                        }
                    }
                ],
            },
        ),
        "block": Resource(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "pab",
            {
                "bucket": b,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
        ),
        "tls": Resource(
            "aws:s3/bucketPolicy:BucketPolicy",
            "tls",
            {
                "bucket": b,
                "policy": json.dumps(
                    {
                        "Statement": [
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ]
                    }
                ),
            },
        ),
        "versioning": Resource(
            "aws:s3/bucketVersioning:BucketVersioning",
            "v",
            {"bucket": b, "versioningConfiguration": {"status": "Enabled"}},
        ),
    }
    parts.update(overrides)
    return [r for r in parts.values() if r is not None]


_PROVIDER = "urn:pulumi:dev::p::pulumi:providers:aws::aws::id"


def _explicit(resources: list[Resource]) -> list[Resource]:
    """The resources as a program with an explicit provider registers them."""
    return [replace(r, provider=r.provider or _PROVIDER) for r in resources]


def _rules(
    resources: list[Resource], secrets: tuple[str, ...] = (), *, production: bool = False
) -> set[str]:
    return {v.rule for v in check(_explicit(resources), secrets, production=production)}


def _role_policy(statement: dict[str, Any]) -> Resource:
    return Resource(
        "aws:iam/rolePolicy:RolePolicy", "p", {"policy": json.dumps({"Statement": [statement]})}
    )


def test_a_compliant_bucket_passes() -> None:
    assert check(_explicit(_bucket_with())) == []


def test_a_resource_on_the_default_provider_is_caught() -> None:
    bucket = _bucket_with()
    assert {v.rule for v in check(bucket)} == {"explicit-provider"}
    assert len(check(bucket)) == len(bucket)
    component = Resource("mlcompile:aws:ArtifactStore", "c", {}, custom=False)
    reference = Resource("pulumi:pulumi:StackReference", "platform", {"name": "o/p/dev"})
    assert not [v for v in check([component, reference]) if v.rule == "explicit-provider"]


def test_production_data_must_be_protected_and_retained() -> None:
    kept = {"protect": True, "retain_on_delete": True}
    unprotected = _bucket_with(bucket=Resource("aws:s3/bucket:Bucket", "b", {"bucket": "bkt"}))
    assert "protected-in-production" in _rules(unprotected, production=True)
    assert "protected-in-production" not in _rules(unprotected, production=False)
    half = Resource("aws:s3/bucket:Bucket", "b", {"bucket": "bkt"}, options={"protect": True})
    (violation,) = [
        v
        for v in check(_explicit(_bucket_with(bucket=half)), production=True)
        if v.rule == "protected-in-production"
    ]
    assert "retain_on_delete" in violation.message
    safe = Resource("aws:s3/bucket:Bucket", "b", {"bucket": "bkt"}, options=kept)
    assert check(_explicit(_bucket_with(bucket=safe)), production=True) == []


def test_encryption_rule_catches_sse_s3_and_unrotated_keys() -> None:
    assert _rules(_bucket_with(sse=None)) == {"encryption-cmk"}
    assert _rules([Resource("aws:kms/key:Key", "k", {"enableKeyRotation": False})]) == {
        "encryption-cmk"
    }
    assert _rules(
        [
            Resource(
                "gcp:storage/bucket:Bucket",
                "g",
                {
                    "publicAccessPrevention": "enforced",
                    "uniformBucketLevelAccess": True,
                    "versioning": {"enabled": True},
                },
            )
        ]
    ) == {"encryption-cmk"}


def test_public_access_rule_catches_a_missing_block_and_an_admin_user() -> None:
    assert _rules(_bucket_with(block=None)) == {"public-access-blocked"}
    registry = Resource(
        "azure-native:containerregistry:Registry",
        "r",
        {
            "adminUserEnabled": True,
            "anonymousPullEnabled": False,
            "encryption": {"status": "enabled"},
        },
    )
    assert _rules([registry]) == {"public-access-blocked"}


def test_tls_rule_catches_a_bucket_without_a_deny_and_old_tls() -> None:
    assert _rules(_bucket_with(tls=None)) == {"tls-only"}
    account = Resource(
        "azure-native:storage:StorageAccount",
        "a",
        {
            "enableHttpsTrafficOnly": True,
            "minimumTlsVersion": "TLS1_0",
            "allowBlobPublicAccess": False,
            "allowSharedKeyAccess": False,
            "encryption": {"keySource": "Microsoft.Keyvault"},
        },
    )
    assert "tls-only" in _rules([account])


def test_versioning_rule_catches_an_unversioned_bucket() -> None:
    assert _rules(_bucket_with(versioning=None)) == {"versioning"}


def test_least_privilege_catches_wildcards_and_broad_roles() -> None:
    assert _rules(
        [_role_policy({"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::b"]})]
    ) == {"least-privilege"}
    assert _rules(
        [_role_policy({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"})]
    ) == {"least-privilege"}
    assert (
        _rules(
            [
                _role_policy(
                    {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}
                )
            ]
        )
        == set()
    )
    owner = Resource(
        "gcp:projects/iAMMember:IAMMember", "m", {"role": "roles/editor", "member": "user:x"}
    )
    assert _rules([owner]) == {"least-privilege"}


def test_no_secret_values_catches_planted_values_credentials_and_secret_data() -> None:
    planted = Resource(
        "aws:sagemaker/pipeline:Pipeline", "p", {"pipelineDefinition": '{"env": "pl4nted"}'}
    )
    assert _rules([planted], ("pl4nted",)) == {"no-secret-values"}
    key = Resource(
        "aws:iam/role:Role",
        "r",
        {"description": "AKIAABCDEFGHIJKLMNOP", "permissionsBoundary": BOUNDARY},
    )
    assert _rules([key]) == {"no-secret-values"}
    secret = Resource("kubernetes:core/v1:Secret", "s", {"stringData": {"value": "x"}})
    assert _rules([secret]) == {"no-secret-values"}
    reference = _role_policy(
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": ["my token value"],
        }
    )
    assert _rules([reference]) == {"no-secret-values"}


def test_encryption_rule_catches_alert_topics_without_a_customer_managed_key() -> None:
    """The platform stack's alert channel (an SNS or Pub/Sub topic) included."""
    named = {"delete_before_replace": True}
    plain = {"name": "alerts"}
    assert _rules([Resource("aws:sns/topic:Topic", "t", plain, options=named)]) == {
        "encryption-cmk"
    }
    aws_managed = {"name": "alerts", "kmsMasterKeyId": "alias/aws/sns"}
    assert _rules([Resource("aws:sns/topic:Topic", "t", aws_managed, options=named)]) == {
        "encryption-cmk"
    }
    assert _rules([Resource("gcp:pubsub/topic:Topic", "t", plain, options=named)]) == {
        "encryption-cmk"
    }
    assert _rules([Resource("aws:sns/topic:Topic", "t", {"kmsMasterKeyId": "arn:k"})]) == set()


def _endpoint_config(instance: str, volume_key: str | None) -> Resource:
    return Resource(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "c",
        {
            "kmsKeyArn": volume_key,
            "productionVariants": [{"instanceType": instance}],
            "dataCaptureConfig": {"kmsKeyId": "arn:k"},
        },
    )


def test_encryption_rule_exempts_only_local_storage_from_a_volume_key() -> None:
    assert _rules([_endpoint_config("ml.m5.large", None)]) == {"encryption-cmk"}
    assert _rules([_endpoint_config("ml.g4dn.xlarge", None)]) == set()
    assert _rules([_endpoint_config("ml.m5.large", "arn:k")]) == set()


def _alarm(endpoint: str, metric: str = "Invocation5XXErrors", actions: bool = True) -> Resource:
    return Resource(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "a",
        {
            "metricName": metric,
            "dimensions": {"EndpointName": endpoint, "VariantName": "main"},
            "alarmActions": ["arn:topic"] if actions else [],
        },
    )


def test_endpoint_alarm_rule_catches_an_unwatched_sagemaker_endpoint() -> None:
    endpoint = Resource("aws:sagemaker/endpoint:Endpoint", "e", {"name": "churn"})
    assert _rules([endpoint]) == {"endpoint-error-alarm"}
    assert _rules([endpoint, _alarm("churn", metric="ModelLatency")]) == {"endpoint-error-alarm"}
    assert _rules([endpoint, _alarm("churn", actions=False)]) == {"endpoint-error-alarm"}
    assert _rules([endpoint, _alarm("churn")]) == set()


def test_endpoint_alarm_rule_covers_endpoints_only_the_pipeline_creates() -> None:
    deploy = _role_policy(
        {
            "Effect": "Allow",
            "Action": ["sagemaker:CreateEndpoint"],
            "Resource": ["arn:aws:sagemaker:eu-west-1:111122223333:endpoint/churn"],
        }
    )
    assert _rules([deploy]) == {"endpoint-error-alarm"}
    assert _rules([deploy, _alarm("churn")]) == set()


def test_endpoint_alarm_rule_catches_an_unwatched_vertex_endpoint() -> None:
    endpoint = Resource(
        "gcp:vertex/aiEndpoint:AiEndpoint",
        "e",
        {"name": "1234567890", "encryptionSpec": {"kmsKeyName": "k"}},
        options={"delete_before_replace": True},
    )
    condition = {
        "conditionThreshold": {
            "filter": 'metric.type="aiplatform.googleapis.com/prediction/online/error_count"'
            ' AND resource.labels.endpoint_id="1234567890"'
        }
    }
    alert = Resource(
        "gcp:monitoring/alertPolicy:AlertPolicy",
        "p",
        {"conditions": [condition], "notificationChannels": ["c"]},
    )
    silent = Resource("gcp:monitoring/alertPolicy:AlertPolicy", "p", {"conditions": [condition]})
    assert _rules([endpoint]) == {"endpoint-error-alarm"}
    assert _rules([endpoint, silent]) == {"endpoint-error-alarm"}
    assert _rules([endpoint, alert]) == set()


def test_key_policies_may_delegate_to_the_account_and_nothing_wider() -> None:
    def key(statement: dict[str, Any]) -> Resource:
        document = json.dumps({"Statement": [statement]})
        return Resource("aws:kms/key:Key", "k", {"enableKeyRotation": True, "policy": document})

    root = {"AWS": "arn:aws:iam::111122223333:root"}
    delegate = {"Effect": "Allow", "Principal": root, "Action": "kms:*", "Resource": "*"}
    assert _rules([key(delegate)]) == set()
    anyone = {**delegate, "Principal": {"Service": "events.amazonaws.com"}}
    assert _rules([key(anyone)]) == {"least-privilege"}


def test_a_role_that_can_overwrite_code_bundles_is_caught() -> None:
    writes = {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::bkt/*"]}
    deny = {
        "Effect": "Deny",
        "Action": ["s3:DeleteObject", "s3:PutObject"],
        "Resource": ["arn:aws:s3:::bkt/code/*"],
    }
    assert "no-code-writes" in _rules([_role_policy(writes)])
    both = Resource(
        "aws:iam/rolePolicy:RolePolicy", "p", {"policy": json.dumps({"Statement": [writes, deny]})}
    )
    assert "no-code-writes" not in _rules([both])
    deploy = {
        "Effect": "Allow",
        "Action": ["s3:PutObject"],
        "Resource": ["arn:aws:s3:::bkt/code/*"],
    }
    assert "no-code-writes" not in _rules([_role_policy(deploy)])


def test_a_gcs_write_grant_that_includes_code_bundles_is_caught() -> None:
    grant = {"bucket": "bkt", "role": "roles/storage.objectAdmin", "member": "serviceAccount:x"}
    bad = Resource("gcp:storage/bucketIAMMember:BucketIAMMember", "g", grant)
    assert "no-code-writes" in _rules([bad])
    condition = {"expression": '!resource.name.startsWith("projects/_/buckets/bkt/objects/code/")'}
    good = Resource(
        "gcp:storage/bucketIAMMember:BucketIAMMember", "g", {**grant, "condition": condition}
    )
    assert "no-code-writes" not in _rules([good])


def _kserve(account: str) -> list[Resource]:
    service = Resource(
        "kubernetes:serving.kserve.io/v1beta1:InferenceService",
        "e",
        {"kind": "InferenceService", "spec": {"predictor": {"serviceAccountName": account}}},
    )
    accounts = [
        Resource("kubernetes:core/v1:ServiceAccount", n, {"metadata": {"name": n}})
        for n in ("pipeline", "serving")
    ]
    binding = Resource(
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "b",
        {"subjects": [{"kind": "ServiceAccount", "name": "pipeline"}]},
    )
    return [service, *accounts, binding]


def test_serving_as_the_pipeline_identity_is_caught() -> None:
    assert "serving-identity-separate" in _rules(_kserve("pipeline"))
    assert "serving-identity-separate" in _rules(_kserve("default"))
    assert "serving-identity-separate" not in _rules(_kserve("serving"))


def test_a_named_resource_replaced_create_first_is_caught() -> None:
    """A fixed physical name with neither protection nor delete-first replacement collides
    with itself on replacement; a type only a rename replaces, and Kubernetes objects, pass."""
    bucket = _bucket_with()
    create_first = [replace(bucket[0], options={}), *bucket[1:]]
    assert _rules(create_first) == {"replaced-safely"}
    assert _rules([replace(bucket[0], options={"protect": True}), *bucket[1:]]) == set()
    topic = Resource(
        "aws:sns/topic:Topic", "alerts", {"name": "mlc-dev-alert-channel", "kmsMasterKeyId": "k"}
    )
    assert _rules([topic]) == {"replaced-safely"}
    assert _rules([replace(topic, options={"delete_before_replace": True})]) == set()
    role = Resource(
        "aws:iam/role:Role",
        "r",
        {
            "name": "mlc-dev-churn-exec",
            "permissionsBoundary": BOUNDARY,
        },
    )
    assert _rules([role]) == set()
    namespace = Resource("kubernetes:core/v1:Namespace", "ns", {"metadata": {"name": "ml-dev"}})
    assert _rules([namespace]) == set()


BOUNDARY = "arn:aws:iam::111122223333:policy/mlc-dev-boundary"


def test_roles_carry_the_boundary_and_only_it_grants_by_not_action() -> None:
    bounded = Resource("aws:iam/role:Role", "r", {"permissionsBoundary": BOUNDARY})
    assert _rules([bounded]) == set()
    assert _rules([Resource("aws:iam/role:Role", "r", {})]) == {"permissions-boundary"}
    other = BOUNDARY.replace("mlc-dev-boundary", "anything")
    assert _rules([Resource("aws:iam/role:Role", "r", {"permissionsBoundary": other})]) == {
        "permissions-boundary"
    }
    broad = {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}
    assert _rules([_role_policy(broad)]) == {"permissions-boundary"}
    ceiling = Resource(
        "aws:iam/policy:Policy",
        "b",
        {"name": "mlc-dev-boundary", "policy": json.dumps({"Statement": [broad]})},
    )
    assert _rules([ceiling]) == set()
    create = {
        "Effect": "Allow",
        "Action": ["iam:CreateRole"],
        "Resource": ["arn:aws:iam::111122223333:role/mlc-dev-*"],
    }
    assert _rules([_role_policy(create)]) == {"permissions-boundary"}
    conditioned = create | {"Condition": {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}}
    assert _rules([_role_policy(conditioned)]) == set()
