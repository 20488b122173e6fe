"""AWS components: the artifact store, step image registry, model registry, pipeline identity,
SageMaker pipeline, schedule, serving endpoint and alerting a pipeline needs, secure by default.

Generated programs only say what to create; every security setting lives here, so a fix reaches
every stack on regeneration. ARNs are built from the account and region the profile names (not
looked up), which keeps previews offline and policies readable. Policies name the resources they
cover: the only ``"*"`` resources are for actions AWS cannot scope (ECR login, metric data,
listing endpoints) and in key policies, where ``"*"`` means the key itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import pulumi
import pulumi_aws as aws

from .boundary import boundary_arn

#: The production variant every endpoint serves (``mlcompile.runtime.sagemaker.VARIANT``: the
#: deploy step updates this variant; a test keeps the two equal). This module imports nothing of
#: mlcompile, so generated projects carry it without depending on mlcompile.
VARIANT = "main"

#: Jobs a SageMaker pipeline starts are named ``pipelines-<execution>-<step>-...``.
_PIPELINE_JOBS = "pipelines-*"
#: Where deploy uploads code bundles (``code/<sha256>.tar.gz``).
CODE_PREFIX = "code/"
#: The longest definition CreatePipeline takes inline (bytes); a longer one goes through S3.
INLINE_DEFINITION_LIMIT = 1024 * 1024
_SCALING_SERVICE = "sagemaker.application-autoscaling.amazonaws.com"


class Lifecycle(TypedDict):
    """How long superseded artifact versions and unfinished uploads are kept."""

    noncurrent_version_days: int
    abort_incomplete_upload_days: int


class Cron(TypedDict):
    """A five-field cron expression and its IANA time zone."""

    cron: str
    timezone: str


def _statement(
    actions: Sequence[str],
    resources: Sequence[pulumi.Input[str]],
    condition: Mapping[str, Any] | None = None,
    effect: str = "Allow",
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": effect,
        "Action": sorted(actions),
        "Resource": list(resources),
    }
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def _document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _role(
    role_resource: str,
    policy_resource: str,
    *,
    name: str,
    account: str,
    trust: str,
    description: str,
    statements: Sequence[Mapping[str, Any]],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.iam.Role:
    """A named role with one inline policy: every role here is built and scoped this way."""
    role = aws.iam.Role(
        role_resource,
        name=name,
        assume_role_policy=trust,
        description=description,
        permissions_boundary=boundary_arn(account, name),
        tags=dict(tags),
        opts=opts,
    )
    aws.iam.RolePolicy(policy_resource, role=role.id, policy=_document(statements), opts=opts)
    return role


def _read_secrets(place: Place, secrets: Sequence[str]) -> dict[str, Any]:
    """Reading exactly the named secrets (whatever suffix Secrets Manager gave them)."""
    return _statement(
        ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
        secret_arns(place, secrets),
    )


def _trust(service: str, account: str) -> str:
    """A trust policy for an AWS service, limited to calls on behalf of this account."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            ],
        },
        sort_keys=True,
    )


def cron_expression(cron: str) -> str:
    """EventBridge's six-field ``cron(...)`` for a five-field Unix cron expression.

    EventBridge numbers weekdays 1-7 from Sunday and needs ``?`` in one of the two day fields.
    """
    minute, hour, day, month, weekday = cron.split()
    if day != "*" and weekday != "*":
        raise ValueError(f"cron {cron!r}: EventBridge cannot restrict both day and weekday")
    if weekday == "*":
        return f"cron({minute} {hour} {day} {month} ? *)"
    return f"cron({minute} {hour} ? {month} {','.join(map(_weekday, weekday.split(',')))} *)"


def _weekday(item: str) -> str:
    """One weekday list item renumbered from Unix (0 or 7 = Sunday) to EventBridge (1 = Sunday)."""
    days, slash, step = item.partition("/")
    shifted = re.sub(r"\d+", lambda m: str(int(m.group()) % 7 + 1), days)
    first, dash, last = shifted.partition("-")
    if dash and first.isdigit() and last.isdigit() and int(first) > int(last):
        raise ValueError(f"weekday range {item!r} wraps past Sunday; split it in two")
    return shifted + slash + step


def kept(parent: pulumi.Resource, keep: bool) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: with ``keep`` (production) it is protected from
    deletion and, if the stack lets go of it anyway, left in the account rather than deleted."""
    # Unprotected, a replacement deletes first: the new one takes the same fixed name.
    return pulumi.ResourceOptions(
        parent=parent, protect=keep, retain_on_delete=keep, delete_before_replace=True
    )


def provider(place: Place) -> aws.Provider:
    """The stack's one AWS provider, pinned to the profile's account and region, so no resource
    lands wherever the ambient credentials point."""
    return aws.Provider("aws", region=place["region"], allowed_account_ids=[place["account"]])


class StoreAccess:
    """The artifact bucket and its key as the resources that use them see it: in the platform
    stack the resources themselves, in a pipeline stack the outputs of the platform stack."""

    bucket_id: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]

    def read_write(self, prefix: str = "") -> list[dict[str, Any]]:
        """Statements that read and write objects (under ``prefix``) with the bucket's key, but
        never write code bundles: only deploy's identity writes under ``code/``, so a step or a
        served model cannot replace the code the next run executes."""
        objects = pulumi.Output.concat(self.bucket_arn, "/", prefix, "*")
        return [
            _statement(["s3:ListBucket", "s3:GetBucketLocation"], [self.bucket_arn]),
            _statement(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [objects]),
            self.no_code_writes(),
            self.use_key(),
        ]

    def read_only(self) -> list[dict[str, Any]]:
        """Statements that only read objects (models), decrypting with the bucket's key."""
        return [
            _statement(["s3:ListBucket", "s3:GetBucketLocation"], [self.bucket_arn]),
            _statement(["s3:GetObject"], [pulumi.Output.concat(self.bucket_arn, "/*")]),
            _statement(["kms:Decrypt", "kms:DescribeKey"], [self.key_arn]),
        ]

    def no_code_writes(self) -> dict[str, Any]:
        return _statement(
            ["s3:DeleteObject", "s3:PutObject"],
            [pulumi.Output.concat(self.bucket_arn, "/", CODE_PREFIX, "*")],
            effect="Deny",
        )

    def use_key(self) -> dict[str, Any]:
        return _statement(
            ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            [self.key_arn],
        )


class ImagesAccess:
    """The step image repository as its users see it (see :class:`StoreAccess`)."""

    repository_arn: pulumi.Input[str]
    repository_url: pulumi.Input[str]

    def pull(self) -> list[dict[str, Any]]:
        """Statements that pull images from this repository (login cannot be scoped)."""
        return [
            _statement(
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [self.repository_arn],
            ),
            _statement(["ecr:GetAuthorizationToken"], ["*"]),
        ]


class ArtifactStore(pulumi.ComponentResource, StoreAccess):
    """The S3 bucket every artifact goes to: encrypted with its own rotating KMS key, private
    (all four public-access blocks, ACLs disabled), TLS-only, versioned, with a lifecycle rule."""

    key: aws.kms.Key
    bucket: aws.s3.Bucket

    def __init__(
        self,
        resource_name: str,
        *,
        bucket_name: str,
        key_alias: str,
        lifecycle: Lifecycle,
        keep: bool,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:ArtifactStore", resource_name, None, opts)
        self.key = aws.kms.Key(
            f"{resource_name}-key",
            description=f"Encrypts the artifacts in s3://{bucket_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=dict(tags),
            opts=kept(self, keep),
        )
        aws.kms.Alias(
            f"{resource_name}-key-alias",
            name=f"alias/{key_alias}",
            target_key_id=self.key.key_id,
            # A new alias of the same name can exist only once the old one is gone.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        self.bucket = aws.s3.Bucket(
            resource_name,
            bucket=bucket_name,
            force_destroy=False,
            tags=dict(tags),
            opts=kept(self, keep),
        )
        on_bucket = pulumi.ResourceOptions(parent=self, depends_on=[self.bucket])
        aws.s3.BucketOwnershipControls(
            f"{resource_name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=on_bucket,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{resource_name}-public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=on_bucket,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{resource_name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": self.key.arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=on_bucket,
        )
        aws.s3.BucketVersioning(
            f"{resource_name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=on_bucket,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{resource_name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "expire-superseded-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {
                        "noncurrent_days": lifecycle["noncurrent_version_days"]
                    },
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": lifecycle["abort_incomplete_upload_days"]
                    },
                }
            ],
            opts=on_bucket,
        )
        aws.s3.BucketPolicy(
            f"{resource_name}-tls-only",
            bucket=self.bucket.id,
            policy=_document(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [self.bucket.arn, pulumi.Output.concat(self.bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
            opts=on_bucket,
        )
        self.bucket_id, self.bucket_arn, self.key_arn = (
            self.bucket.id,
            self.bucket.arn,
            self.key.arn,
        )
        self.register_outputs({"bucket": self.bucket.id, "key_arn": self.key.arn})


class StepImageRepository(pulumi.ComponentResource, ImagesAccess):
    """The ECR repository for step images: scanned on push, immutable tags, KMS-encrypted."""

    repository: aws.ecr.Repository

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        store: ArtifactStore,
        keep: bool,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:StepImageRepository", resource_name, None, opts)
        self.repository = aws.ecr.Repository(
            resource_name,
            name=name,
            image_scanning_configuration={"scan_on_push": True},
            image_tag_mutability="IMMUTABLE",
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": store.key.arn}],
            force_delete=False,
            tags=dict(tags),
            opts=kept(self, keep),
        )
        self.repository_arn = self.repository.arn
        self.repository_url = self.repository.repository_url
        self.register_outputs({"url": self.repository.repository_url})


class ModelGroup(pulumi.ComponentResource):
    """The SageMaker model package group that holds every version of one registered model."""

    group: aws.sagemaker.ModelPackageGroup

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        model: str,
        keep: bool,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:ModelGroup", resource_name, None, opts)
        self.name = name
        self.group = aws.sagemaker.ModelPackageGroup(
            resource_name,
            model_package_group_name=name,
            model_package_group_description=f"Versions of model {model!r}",
            tags=dict(tags),
            opts=kept(self, keep),
        )
        self.register_outputs({"arn": self.group.arn})


class Place(TypedDict):
    """The account and region ARNs are built for."""

    account: str
    region: str


def _arn(place: Place, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{place['region']}:{place['account']}:{resource}"


def secret_arns(place: Place, secrets: Sequence[str]) -> list[str]:
    """ARNs of Secrets Manager secrets by name (AWS appends six random characters)."""
    return [_arn(place, "secretsmanager", f"secret:{name}-??????") for name in secrets]


def _log_statements(place: Place, group_prefix: str) -> dict[str, Any]:
    return _statement(
        [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:PutLogEvents",
        ],
        [
            _arn(place, "logs", f"log-group:{group_prefix}*"),
            _arn(place, "logs", f"log-group:{group_prefix}*:log-stream:*"),
        ],
    )


def _metrics_statement() -> dict[str, Any]:
    return _statement(
        ["cloudwatch:PutMetricData"],
        ["*"],
        {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
    )


class Deployment(TypedDict):
    """An endpoint the pipeline's deploy step serves, the role its models run as, and whether
    the step registers autoscaling for it."""

    endpoint: str
    serving_role: str
    autoscaling: bool


class Permissions(TypedDict):
    """What kinds of SageMaker work the pipeline starts, beyond processing jobs."""

    training: bool
    batch_transform: bool
    deployments: list[Deployment]


class ExecutionRole(pulumi.ComponentResource):
    """The role a SageMaker pipeline and its jobs run as, allowed exactly what the pipeline does:
    its bucket and key, its image repository, its model groups, its endpoints and its secrets."""

    role: aws.iam.Role

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        store: StoreAccess,
        repository: ImagesAccess,
        model_groups: Sequence[ModelGroup],
        secrets: Sequence[str],
        permissions: Permissions,
        tags: Mapping[str, str],
        imports: Sequence[str] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:ExecutionRole", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.arn_text = f"arn:aws:iam::{place['account']}:role/{name}"
        kinds = ["processing-job"]
        if permissions["training"]:
            kinds.append("training-job")
        if permissions["batch_transform"]:
            kinds.append("transform-job")
        job_arns = [_arn(place, "sagemaker", f"{kind}/{_PIPELINE_JOBS}") for kind in kinds]
        job_actions = ["sagemaker:AddTags"]
        for action, kind in (
            ("ProcessingJob", "processing-job"),
            ("TrainingJob", "training-job"),
            ("TransformJob", "transform-job"),
        ):
            if kind in kinds:
                job_actions += [
                    f"sagemaker:{verb}{action}" for verb in ("Create", "Describe", "Stop")
                ]
        statements = [
            *store.read_write(),
            # Jobs' storage volumes are encrypted with the key (VolumeKmsKeyId): SageMaker
            # creates a grant on it for the job's instances, as the role.
            _statement(
                ["kms:CreateGrant"],
                [store.key_arn],
                {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            ),
            *repository.pull(),
            _log_statements(place, "/aws/sagemaker/"),
            _metrics_statement(),
            _statement(job_actions, job_arns),
            _statement(
                ["iam:PassRole"],
                [self.arn_text],
                {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]
        if model_groups:
            statements.append(
                _statement(
                    [
                        "sagemaker:CreateModelPackage",
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:DescribeModelPackageGroup",
                        "sagemaker:ListModelPackages",
                        "sagemaker:UpdateModelPackage",
                        "sagemaker:AddTags",
                    ],
                    [
                        arn
                        for group in model_groups
                        for arn in (
                            _arn(place, "sagemaker", f"model-package-group/{group.name}"),
                            _arn(place, "sagemaker", f"model-package/{group.name}/*"),
                        )
                    ],
                )
            )
        if permissions["batch_transform"]:
            statements.append(
                _statement(
                    ["sagemaker:CreateModel", "sagemaker:DescribeModel", "sagemaker:AddTags"],
                    [_arn(place, "sagemaker", f"model/{_PIPELINE_JOBS}")],
                )
            )
        if permissions["deployments"]:
            statements += _deploy_statements(place, store, permissions["deployments"])
        if secrets:
            statements.append(_read_secrets(place, secrets))
        statements += _read_imports(imports)
        self.role = _role(
            resource_name,
            f"{resource_name}-policy",
            name=name,
            account=place["account"],
            trust=_trust("sagemaker.amazonaws.com", place["account"]),
            description="Runs the pipeline's SageMaker jobs",
            statements=statements,
            tags=tags,
            opts=child,
        )
        self.register_outputs({"arn": self.role.arn})


def _read_imports(uris: Sequence[str]) -> list[dict[str, Any]]:
    """Reading exactly the objects the pipeline imports: the key (or prefix) of each s3:// URI."""
    out: list[dict[str, Any]] = []
    for uri in uris:
        if not uri.startswith("s3://"):
            continue
        bucket, _, key = uri[len("s3://") :].partition("/")
        out.append(_statement(["s3:GetObject"], [f"arn:aws:s3:::{bucket}/{key}*"]))
        out.append(
            _statement(
                ["s3:ListBucket"],
                [f"arn:aws:s3:::{bucket}"],
                {"StringLike": {"s3:prefix": [f"{key}*"]}},
            )
        )
    return out


def _deploy_statements(
    place: Place, store: StoreAccess, deployments: Sequence[Deployment]
) -> list[dict[str, Any]]:
    """Exactly what the deploy step calls (``mlcompile.runtime.sagemaker.deploy``), by name: it
    lists endpoints (unscopable) to choose between create and update, creates a model and an
    endpoint config named ``<endpoint>-v<version>`` whose volume and captured data use the
    stack's key, moves the endpoint to it, waits on DescribeEndpoint, and may register the
    endpoint's variant for autoscaling. SageMaker ARNs carry names in lowercase, as ours are."""
    endpoints = [d["endpoint"] for d in deployments]
    statements = [
        _statement(["sagemaker:ListEndpoints"], ["*"]),
        _statement(
            ["sagemaker:CreateModel"],
            [_arn(place, "sagemaker", f"model/{e}-v*") for e in endpoints],
        ),
        _statement(
            ["sagemaker:CreateEndpointConfig"],
            [_arn(place, "sagemaker", f"endpoint-config/{e}-v*") for e in endpoints],
        ),
        # Creating or updating an endpoint is authorised on the endpoint and its new config.
        _statement(
            ["sagemaker:CreateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"],
            [
                arn
                for e in endpoints
                for arn in (
                    _arn(place, "sagemaker", f"endpoint/{e}"),
                    _arn(place, "sagemaker", f"endpoint-config/{e}-v*"),
                )
            ],
        ),
        _statement(
            ["iam:PassRole"],
            [f"arn:aws:iam::{place['account']}:role/{d['serving_role']}" for d in deployments],
            {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        ),
        # SageMaker takes grants on the key for the endpoint's volume and captured data.
        _statement(
            ["kms:CreateGrant"],
            [store.key_arn],
            {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]
    scaled = [d["endpoint"] for d in deployments if d["autoscaling"]]
    if scaled:
        # Scalable target ids are generated, so the account and region are the narrowest scope.
        statements += [
            _statement(
                [
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:RegisterScalableTarget",
                ],
                [_arn(place, "application-autoscaling", "scalable-target/*")],
            ),
            _statement(
                [
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:UpdateEndpointWeightsAndCapacities",
                ],
                [
                    arn
                    for e in scaled
                    for arn in (
                        _arn(place, "sagemaker", f"endpoint/{e}"),
                        _arn(place, "sagemaker", f"endpoint-config/{e}-v*"),
                    )
                ],
            ),
            _statement(
                ["iam:CreateServiceLinkedRole"],
                [
                    f"arn:aws:iam::{place['account']}:role/aws-service-role/"
                    f"{_SCALING_SERVICE}/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
                ],
                {"StringEquals": {"iam:AWSServiceName": _SCALING_SERVICE}},
            ),
        ]
    return statements


class SageMakerPipeline(pulumi.ComponentResource):
    """The SageMaker pipeline, holding the definition ``mlcompile compile`` produced.

    CreatePipeline takes a definition of at most 1 MB inline (``PipelineDefinition`` in the API
    reference); a larger one is stored in the artifact bucket, encrypted with its key, and
    given as ``PipelineDefinitionS3Location``, as ``mlcompile deploy`` does."""

    pipeline: aws.sagemaker.Pipeline

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        definition: str,
        role_arn: pulumi.Input[str],
        tags: Mapping[str, str],
        store: StoreAccess | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:SageMakerPipeline", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        source: dict[str, Any] = {"pipeline_definition": definition}
        if len(definition.encode()) > INLINE_DEFINITION_LIMIT:
            if store is None:
                raise ValueError(f"the definition of {name} is over 1 MB: give the store")
            digest = hashlib.sha256(definition.encode()).hexdigest()
            stored = aws.s3.BucketObjectv2(
                f"{resource_name}-definition",
                bucket=store.bucket_id,
                key=f"{name}/definitions/{digest}.json",
                content=definition,
                content_type="application/json",
                server_side_encryption="aws:kms",
                kms_key_id=store.key_arn,
                tags=dict(tags),
                opts=child,
            )
            source = {
                "pipeline_definition_s3_location": aws.sagemaker.PipelinePipelineDefinitionS3LocationArgs(
                    bucket=stored.bucket, object_key=stored.key, version_id=stored.version_id
                )
            }
        self.pipeline = aws.sagemaker.Pipeline(
            resource_name,
            pipeline_name=name,
            pipeline_display_name=name,
            role_arn=role_arn,
            tags=dict(tags),
            opts=child,
            **source,
        )
        self.register_outputs({"arn": self.pipeline.arn})


class PipelineSchedule(pulumi.ComponentResource):
    """An EventBridge Scheduler schedule that starts the pipeline, with a role allowed only
    ``sagemaker:StartPipelineExecution`` on that pipeline (and the key that encrypts it)."""

    schedule: aws.scheduler.Schedule

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        role_name: str,
        place: Place,
        when: Cron,
        pipeline: SageMakerPipeline,
        store: StoreAccess,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:PipelineSchedule", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = _role(
            f"{resource_name}-role",
            f"{resource_name}-policy",
            name=role_name,
            account=place["account"],
            trust=_trust("scheduler.amazonaws.com", place["account"]),
            description=f"Lets EventBridge Scheduler start pipeline {name}",
            statements=[
                _statement(["sagemaker:StartPipelineExecution"], [pipeline.pipeline.arn]),
                _statement(["kms:Decrypt"], [store.key_arn]),
            ],
            tags=tags,
            opts=child,
        )
        self.schedule = aws.scheduler.Schedule(
            resource_name,
            name=name,
            schedule_expression=cron_expression(when["cron"]),
            schedule_expression_timezone=when["timezone"],
            flexible_time_window={"mode": "OFF"},
            kms_key_arn=store.key_arn,
            target={
                "arn": pipeline.pipeline.arn,
                "role_arn": role.arn,
                "retry_policy": {"maximum_retry_attempts": 0},
            },
            opts=child,
        )
        self.register_outputs({"arn": self.schedule.arn})


class ServingRole(pulumi.ComponentResource):
    """The role the models served at one SageMaker endpoint run as: reads models and images,
    writes only its endpoint's captured data, never code bundles.

    The endpoint itself has one owner, the pipeline's deploy step, which creates it on its first
    run and moves it to each new model version (with data capture and the stack's key): a stack
    that also declared it would try to create an endpoint that exists, or revert the step's.
    """

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        role_name: str,
        place: Place,
        model_group: ModelGroup,
        store: StoreAccess,
        repository: ImagesAccess,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:ServingRole", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        capture = f"data-capture/{name}/"
        role = _role(
            f"{resource_name}-role",
            f"{resource_name}-policy",
            name=role_name,
            account=place["account"],
            trust=_trust("sagemaker.amazonaws.com", place["account"]),
            description=f"Runs the model served at endpoint {name}",
            statements=[
                *store.read_write(capture),
                _statement(["s3:GetObject"], [pulumi.Output.concat(store.bucket_arn, "/*")]),
                *repository.pull(),
                _log_statements(place, "/aws/sagemaker/Endpoints/"),
                _metrics_statement(),
                _statement(
                    ["sagemaker:DescribeModelPackage"],
                    [_arn(place, "sagemaker", f"model-package/{model_group.name}/*")],
                ),
            ],
            tags=tags,
            opts=child,
        )
        self.role = role
        self.register_outputs({"arn": role.arn})


class Latency(TypedDict):
    """The p99 model latency an endpoint's alarm fires above."""

    p99_ms: int


class AlertAccess:
    """The alert channel as its publishers see it: the platform stack's SNS topic."""

    topic_arn: pulumi.Input[str]


class AlertChannel(pulumi.ComponentResource, AlertAccess):
    """The environment's one alert channel, in the platform stack: an SNS topic under its own
    rotating KMS key that the account's CloudWatch alarms and EventBridge rules, and the
    environment's pipeline roles, may publish to (subscribe any pager or chat bridge to it).
    Each of ``emails`` (by a key that stays when others come and go) is subscribed; SNS mails
    its owner a link to confirm, and until then the subscription is pending and delivers nothing.

    The topic has its own key because EventBridge cannot be limited by source in a key policy
    (the KMS request carries no source ARN); a key that encrypts only alerts keeps that grant
    away from the artifacts. Publishing to an encrypted topic needs the key:
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
    """

    topic: aws.sns.Topic

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        role_prefix: str,
        tags: Mapping[str, str],
        emails: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:AlertChannel", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        account = place["account"]
        from_account = {"StringEquals": {"aws:SourceAccount": account}}
        alarms = {
            **from_account,
            "ArnLike": {"aws:SourceArn": _arn(place, "cloudwatch", "alarm:*")},
        }
        rules = {**from_account, "ArnLike": {"aws:SourceArn": _arn(place, "events", "rule/*")}}
        publish = ["kms:Decrypt", "kms:GenerateDataKey"]
        key_statements: list[dict[str, Any]] = [
            {
                "Sid": "AccountAdministersThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "EventBridgePublishes",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": publish,
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchAlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": publish,
                "Resource": "*",
                "Condition": alarms,
            },
        ]
        key = aws.kms.Key(
            f"{resource_name}-key",
            description=f"Encrypts the alerts in SNS topic {name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=json.dumps({"Version": "2012-10-17", "Statement": key_statements}),
            tags=dict(tags),
            opts=child,
        )
        self.topic = aws.sns.Topic(
            resource_name,
            name=name,
            kms_master_key_id=key.arn,
            tags=dict(tags),
            # A replacement takes the name: the old topic goes first.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        topic_statements: list[dict[str, Any]] = [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Resource": self.topic.arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "EventBridgeRulesPublish",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": self.topic.arn,
                "Condition": rules,
            },
            {
                "Sid": "AlarmsPublish",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": self.topic.arn,
                "Condition": alarms,
            },
            {
                "Sid": "PipelineRolesPublish",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sns:Publish",
                "Resource": self.topic.arn,
                "Condition": {
                    "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/{role_prefix}*"}
                },
            },
        ]
        aws.sns.TopicPolicy(
            f"{resource_name}-policy",
            arn=self.topic.arn,
            policy=_document(topic_statements),
            opts=child,
        )
        for label, address in (emails or {}).items():
            aws.sns.TopicSubscription(
                f"{resource_name}-email-{label}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=address,
                opts=child,
            )
        self.topic_arn = self.topic.arn
        self.register_outputs({"topic": self.topic.arn})


class FailureAlert(pulumi.ComponentResource):
    """An EventBridge rule that publishes every failed execution of the pipeline to the
    platform stack's alert channel (whose policy accepts the account's rules)."""

    def __init__(
        self,
        resource_name: str,
        *,
        rule_name: str,
        pipeline: SageMakerPipeline,
        alerts: AlertAccess,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:FailureAlert", resource_name, None, opts)
        rule = aws.cloudwatch.EventRule(
            f"{resource_name}-pipeline-failed",
            name=rule_name,
            description="A run of the pipeline failed",
            event_pattern=pipeline.pipeline.arn.apply(
                lambda arn: json.dumps(
                    {
                        "source": ["aws.sagemaker"],
                        "detail-type": [
                            "SageMaker Model Building Pipeline Execution Status Change"
                        ],
                        "detail": {
                            "currentPipelineExecutionStatus": ["Failed"],
                            "pipelineArn": [arn],
                        },
                    },
                    sort_keys=True,
                )
            ),
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        aws.cloudwatch.EventTarget(
            f"{resource_name}-pipeline-failed",
            rule=rule.name,
            arn=alerts.topic_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({})


class EndpointAlarms(pulumi.ComponentResource):
    """CloudWatch alarms on an endpoint's served variant, whichever config the pipeline last
    deployed: any 5XX error in five minutes, and p99 model latency above a threshold for three
    five-minute periods. Both notify the alert topic when they fire and when they clear."""

    def __init__(
        self,
        resource_name: str,
        *,
        endpoint: str,
        error_alarm: str,
        latency_alarm: str,
        latency: Latency,
        alerts: AlertAccess,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:EndpointAlarms", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        dimensions = {"EndpointName": endpoint, "VariantName": VARIANT}
        actions = [alerts.topic_arn]
        aws.cloudwatch.MetricAlarm(
            f"{resource_name}-5xx",
            name=error_alarm,
            alarm_description=f"Endpoint {endpoint} returned 5XX errors",
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions=dimensions,
            statistic="Sum",
            period=300,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            tags=dict(tags),
            opts=child,
        )
        aws.cloudwatch.MetricAlarm(
            f"{resource_name}-latency",
            name=latency_alarm,
            alarm_description=f"Endpoint {endpoint}: p99 model latency above {latency['p99_ms']} ms",
            namespace="AWS/SageMaker",
            metric_name="ModelLatency",  # in microseconds
            dimensions=dimensions,
            extended_statistic="p99",
            period=300,
            evaluation_periods=3,
            threshold=latency["p99_ms"] * 1000,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            tags=dict(tags),
            opts=child,
        )
        self.register_outputs({})


class WorkloadRole(pulumi.ComponentResource):
    """The role Kubeflow pipeline pods assume through the cluster's OIDC provider (IRSA): the
    bucket, its key and the named secrets, for one Kubernetes service account only."""

    role: aws.iam.Role

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        place: Place,
        oidc_provider: str,
        namespace: str,
        service_account: str,
        store: StoreAccess,
        repository: ImagesAccess,
        secrets: Sequence[str],
        tags: Mapping[str, str],
        read_only: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:WorkloadRole", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        provider_arn = f"arn:aws:iam::{place['account']}:oidc-provider/{oidc_provider}"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{oidc_provider}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{oidc_provider}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
        # Serving only reads its models; the pipeline reads and writes artifacts.
        access = store.read_only() if read_only else store.read_write()
        statements = [*access, *repository.pull()]
        if secrets:
            statements.append(_read_secrets(place, secrets))
        self.role = _role(
            resource_name,
            f"{resource_name}-policy",
            name=name,
            account=place["account"],
            trust=json.dumps(trust, sort_keys=True),
            description=f"Kubeflow pipeline pods in {namespace} run as this role",
            statements=statements,
            tags=tags,
            opts=child,
        )
        self.register_outputs({"arn": self.role.arn})


# ----- the platform stack's outputs, and how a pipeline stack reads them -------------------

#: What the platform stack exports and pipeline stacks read, by output name.
PLATFORM_OUTPUTS = (
    "artifact_bucket",
    "artifact_bucket_arn",
    "artifact_key_arn",
    "step_image_repository_arn",
    "step_image_repository_url",
)


def export_platform(store: ArtifactStore, repository: StepImageRepository) -> None:
    """Export everything a pipeline stack reads (``PLATFORM_OUTPUTS``), in the platform stack."""
    values: dict[str, pulumi.Input[str]] = {
        "artifact_bucket": store.bucket.id,
        "artifact_bucket_arn": store.bucket.arn,
        "artifact_key_arn": store.key.arn,
        "step_image_repository_arn": repository.repository.arn,
        "step_image_repository_url": repository.repository.repository_url,
    }
    for name in PLATFORM_OUTPUTS:
        pulumi.export(name, values[name])


#: The alert channel's outputs (the platform stack exports them beside ``PLATFORM_OUTPUTS``).
ALERT_OUTPUTS = ("alert_topic_arn",)


def export_alerts(channel: AlertChannel) -> None:
    """Export the alert channel pipeline stacks publish to (``ALERT_OUTPUTS``)."""
    pulumi.export("alert_topic_arn", channel.topic.arn)


class _SharedAlerts(AlertAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.topic_arn = platform.require_output("alert_topic_arn")


class _SharedStore(StoreAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.bucket_id = platform.require_output("artifact_bucket")
        self.bucket_arn = platform.require_output("artifact_bucket_arn")
        self.key_arn = platform.require_output("artifact_key_arn")


class _SharedImages(ImagesAccess):
    def __init__(self, platform: pulumi.StackReference) -> None:
        self.repository_arn = platform.require_output("step_image_repository_arn")
        self.repository_url = platform.require_output("step_image_repository_url")


class Platform:
    """The platform stack as a pipeline stack sees it: the shared store and image repository,
    read through a StackReference (never created again here)."""

    def __init__(self, stack: str, *, opts: pulumi.ResourceOptions | None = None) -> None:
        self.reference = pulumi.StackReference("platform", stack_name=stack, opts=opts)
        self.store: StoreAccess = _SharedStore(self.reference)
        self.repository: ImagesAccess = _SharedImages(self.reference)
        self.alerts: AlertAccess = _SharedAlerts(self.reference)
