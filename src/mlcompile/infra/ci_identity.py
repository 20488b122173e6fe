"""The identity CI deploys as, per cloud and environment, trusted through OIDC federation: a CI
job proves who it is with a token its CI provider signs, and the cloud trusts exactly one
repository and one environment. No cloud key is ever stored in CI.

- AWS: an IAM OIDC provider for the CI issuer and a role whose trust policy checks the token's
  audience and its subject (``repo:OWNER/NAME:environment:ENV`` on GitHub), with a policy that
  lets it deploy pipeline stacks named for this environment and nothing else.
- GCP: a Workload Identity pool and provider whose attribute condition names the repository and
  the environment, and a service account only that pool's principals can impersonate.
- Azure: a user-assigned identity with a federated credential whose subject names the
  repository and the environment, granted narrow built-in roles in the environment's group.

The platform stack (one per account or project and environment) creates them: CI deploys the
pipeline stacks, and the platform stack itself is applied by an administrator, so CI never
manages its own trust. Cloud SDKs are imported by the component that needs one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import pulumi

if TYPE_CHECKING:  # a generated project carries this module without mlcompile itself
    from mlcompile.profiles import Profile


class Trust(TypedDict):
    """Who may become the identity: one repository, in one CI environment."""

    provider: Literal["github", "gitlab"]
    repository: str
    environment: str
    #: The token's ``sub`` claim, exactly (a ``*`` only in a GitLab release-tag subject).
    subject: str
    #: The CI provider's OIDC issuer URL, and the audience the token is minted for this cloud.
    issuer: str
    audience: str


def trust(profile: Profile) -> Trust:
    """The trust a profile's ``ci`` section asks for (its repository must be set)."""
    from mlcompile.ci.plan import AUDIENCES, ISSUERS, RELEASE_TAG

    ci = profile.ci
    if not ci.repository:
        raise ValueError(f"profile {profile.name} sets no ci.repository: CI cannot be trusted")
    environment = ci.environment or profile.environment
    if ci.provider == "github":
        subject = f"repo:{ci.repository}:environment:{environment}"
    elif profile.environment == "dev":
        subject = f"project_path:{ci.repository}:ref_type:branch:ref:{ci.branch}"
    else:
        subject = f"project_path:{ci.repository}:ref_type:tag:ref:{RELEASE_TAG}"
    return {
        "provider": ci.provider,
        "repository": ci.repository,
        "environment": environment,
        "subject": subject,
        "issuer": ISSUERS[ci.provider],
        "audience": AUDIENCES[profile.cloud],
    }


def _issuer_host(who: Trust) -> str:
    return who["issuer"].removeprefix("https://")


def aws_trust_policy(provider_arn: str, who: Trust) -> str:
    """Only web-identity tokens from the issuer, for AWS, naming this repository and
    environment, may assume the role."""
    host = _issuer_host(who)
    match = "StringLike" if "*" in who["subject"] else "StringEquals"
    conditions: dict[str, dict[str, str]] = {
        "StringEquals": {f"{host}:aud": who["audience"]},
    }
    conditions.setdefault(match, {})[f"{host}:sub"] = who["subject"]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": conditions,
                }
            ],
        },
        sort_keys=True,
    )


def aws_deploy_statements(
    *,
    account: str,
    region: str,
    base: str,
    bucket: str,
    registry: str,
    kms_alias: str,
    role: str,
    pull_from: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """What deploying a pipeline stack of this environment takes: resources named ``base-*``
    (the environment's naming prefix), the environment's bucket, registry and key, and reading
    the registries it promotes images from (``pull_from``, repository ARNs). The CI role cannot
    change itself, and creates or empowers roles only with the environment's boundary."""
    from .boundary import BOUNDED_ACTIONS, boundary_arn, condition, denials

    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    sagemaker = [
        arn("sagemaker", f"{kind}/{base}-*")
        for kind in ("pipeline", "model-package-group", "endpoint", "endpoint-config", "model")
    ]
    iam_roles = f"arn:aws:iam::{account}:role/{base}-*"
    return [
        _allow(
            [
                "sagemaker:AddTags",
                "sagemaker:CreateEndpoint",
                "sagemaker:CreateEndpointConfig",
                "sagemaker:CreateModel",
                "sagemaker:CreateModelPackageGroup",
                "sagemaker:CreatePipeline",
                "sagemaker:DeleteEndpoint",
                "sagemaker:DeleteEndpointConfig",
                "sagemaker:DeleteModel",
                "sagemaker:DeleteModelPackageGroup",
                "sagemaker:DeletePipeline",
                "sagemaker:DeleteTags",
                "sagemaker:DescribeEndpoint",
                "sagemaker:DescribeEndpointConfig",
                "sagemaker:DescribeModel",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:DescribePipeline",
                "sagemaker:DescribePipelineExecution",
                "sagemaker:ListPipelineExecutionSteps",
                "sagemaker:ListPipelineExecutions",
                "sagemaker:ListTags",
                "sagemaker:StartPipelineExecution",
                "sagemaker:StopPipelineExecution",
                "sagemaker:UpdateEndpoint",
                "sagemaker:UpdatePipeline",
            ],
            [*sagemaker, arn("sagemaker", f"pipeline/{base}-*/execution/*")],
        ),
        _allow(
            [
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:DetachRolePolicy",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
                "iam:ListRolePolicies",
                "iam:PassRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
            ],
            [iam_roles],
        ),
        # Without the boundary CI could write itself a role that does anything.
        _allow(BOUNDED_ACTIONS, [iam_roles], condition(boundary_arn(account, role))),
        *denials(account, boundary_arn(account, role)),
        {
            "Effect": "Deny",
            "Action": [
                "iam:DeleteRole",
                "iam:DeleteRolePolicy",
                "iam:PutRolePolicy",
                "iam:UpdateAssumeRolePolicy",
                "iam:UpdateRole",
            ],
            "Resource": [f"arn:aws:iam::{account}:role/{role}"],
        },
        _allow(
            [
                "scheduler:CreateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
                "scheduler:ListTagsForResource",
                "scheduler:TagResource",
                "scheduler:UntagResource",
                "scheduler:UpdateSchedule",
            ],
            [arn("scheduler", f"schedule/default/{base}-*")],
        ),
        _allow(
            [
                "cloudwatch:DeleteAlarms",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:ListTagsForResource",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:TagResource",
            ],
            [arn("cloudwatch", f"alarm:{base}-*")],
        ),
        _allow(
            [
                "sns:CreateTopic",
                "sns:DeleteTopic",
                "sns:GetTopicAttributes",
                "sns:ListTagsForResource",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
                "sns:TagResource",
                "sns:Unsubscribe",
            ],
            [arn("sns", f"{base}-*")],
        ),
        _allow(
            ["s3:GetBucketLocation", "s3:ListBucket"],
            [f"arn:aws:s3:::{bucket}"],
        ),
        _allow(["s3:GetObject"], [f"arn:aws:s3:::{bucket}/*"]),
        # Deploy writes only what it uploads: code bundles and image build contexts (both
        # content-addressed, so nothing is ever deleted); run artifacts stay the pipeline's.
        _allow(
            ["s3:PutObject"],
            [f"arn:aws:s3:::{bucket}/code/*", f"arn:aws:s3:::{bucket}/image-contexts/*"],
        ),
        _allow(["ecr:GetAuthorizationToken"], ["*"]),
        _allow(
            [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:CompleteLayerUpload",
                "ecr:DescribeImages",
                "ecr:DescribeRepositories",
                "ecr:GetDownloadUrlForLayer",
                "ecr:InitiateLayerUpload",
                "ecr:PutImage",
                "ecr:UploadLayerPart",
            ],
            [arn("ecr", f"repository/{registry}")],
        ),
        *([_allow(PULL_ACTIONS, list(pull_from))] if pull_from else []),
        _allow(
            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
            [arn("kms", "key/*")],
            {"ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{kms_alias}"}},
        ),
    ]


#: Reading an image from a registry, as ``skopeo copy`` does when it promotes one
#: (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html).
PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)


def aws_repository_read_policy(role_arns: Sequence[str]) -> str:
    """The step-image repository policy of the environment promoted from: exactly the promoting
    environments' CI roles may pull (their own policies must allow it too, across accounts)."""
    if not role_arns or any("*" in a for a in role_arns):
        raise ValueError(f"promotion readers must be named roles, not {list(role_arns)}")
    statement = {
        "Sid": "PromotingCiPulls",
        "Effect": "Allow",
        "Principal": {"AWS": sorted(role_arns)},
        "Action": sorted(PULL_ACTIONS),
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def _allow(
    actions: Sequence[str], resources: Sequence[str], condition: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(resources),
    }
    if condition:
        statement["Condition"] = dict(condition)
    return statement


class AwsCiIdentity(pulumi.ComponentResource):
    """The IAM role CI assumes with its OIDC token, and (unless the account already has one)
    the OIDC provider for the CI issuer. An account has one provider per issuer URL: when a
    second environment shares the account, pass the first one's ``provider_arn``."""

    role_arn: pulumi.Output[str]
    provider_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        trust: Trust,
        role_name: str,
        account: str,
        region: str,
        base: str,
        bucket: str,
        registry: str,
        kms_alias: str,
        tags: Mapping[str, str],
        provider_arn: str | None = None,
        pull_from: Sequence[str] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:CiIdentity", name, None, opts)
        import pulumi_aws as aws

        from .boundary import boundary_arn

        child = pulumi.ResourceOptions(parent=self)
        if provider_arn is None:
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-oidc",
                url=trust["issuer"],
                client_id_lists=[trust["audience"]],
                tags=dict(tags),
                opts=child,
            )
            arn: pulumi.Output[str] = provider.arn
        else:
            arn = pulumi.Output.from_input(provider_arn)
        role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            assume_role_policy=arn.apply(lambda a: aws_trust_policy(a, trust)),
            description=f"CI of {trust['repository']} deploying in {trust['environment']}",
            max_session_duration=3600,
            permissions_boundary=boundary_arn(account, role_name),
            tags=dict(tags),
            opts=child,
        )
        statements = aws_deploy_statements(
            account=account,
            region=region,
            base=base,
            bucket=bucket,
            registry=registry,
            kms_alias=kms_alias,
            role=role_name,
            pull_from=pull_from,
        )
        aws.iam.RolePolicy(
            f"{name}-deploy",
            role=role.id,
            policy=json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True),
            opts=child,
        )
        self.role_arn = role.arn
        self.provider_arn = arn
        self.register_outputs({"role_arn": role.arn, "provider_arn": arn})


def gcp_attribute_condition(who: Trust) -> str:
    """The CEL condition every token must meet: this repository, this environment."""
    repository = "repository" if who["provider"] == "github" else "project_path"
    return (
        f"assertion.{repository} == '{who['repository']}' && "
        f"assertion.environment == '{who['environment']}'"
    )


#: Roles CI needs to deploy a pipeline stack on Vertex AI; none is a basic role.
GCP_DEPLOY_ROLES = (
    "roles/aiplatform.user",
    "roles/iam.serviceAccountAdmin",
    "roles/iam.serviceAccountUser",
    "roles/cloudscheduler.admin",
)


class GcpCiIdentity(pulumi.ComponentResource):
    """A Workload Identity pool and OIDC provider for the CI issuer, conditioned on the
    repository and environment, and the service account the pool's principals impersonate."""

    workload_identity_provider: pulumi.Output[str]
    service_account: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        trust: Trust,
        project: str,
        pool_id: str,
        account_id: str,
        bucket: str,
        registry: str,
        location: str,
        roles: Sequence[str] = GCP_DEPLOY_ROLES,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:gcp:CiIdentity", name, None, opts)
        import pulumi_gcp as gcp

        child = pulumi.ResourceOptions(parent=self)
        pool = gcp.iam.WorkloadIdentityPool(
            f"{name}-pool",
            project=project,
            workload_identity_pool_id=pool_id,
            display_name=f"CI {trust['environment']}"[:32],
            description=f"CI of {trust['repository']} in {trust['environment']}",
            opts=child,
        )
        repository = "repository" if trust["provider"] == "github" else "project_path"
        # GitHub's login action presents the provider's own name as the audience (the
        # default); a GitLab job presents the one its id_tokens section asks for.
        oidc = gcp.iam.WorkloadIdentityPoolProviderOidcArgs(
            issuer_uri=trust["issuer"],
            allowed_audiences=[trust["audience"]] if trust["provider"] == "gitlab" else None,
        )
        provider = gcp.iam.WorkloadIdentityPoolProvider(
            f"{name}-provider",
            project=project,
            workload_identity_pool_id=pool.workload_identity_pool_id,
            workload_identity_pool_provider_id=trust["provider"],
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": f"assertion.{repository}",
                "attribute.environment": "assertion.environment",
            },
            attribute_condition=gcp_attribute_condition(trust),
            oidc=oidc,
            opts=child,
        )
        account = gcp.serviceaccount.Account(
            f"{name}-account",
            project=project,
            account_id=account_id,
            display_name=f"CI deploying in {trust['environment']}",
            opts=child,
        )
        # Only principals of this pool whose token named this repository; the provider's
        # condition has already required the environment.
        gcp.serviceaccount.IAMMember(
            f"{name}-impersonate",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=pool.name.apply(
                lambda pool_name: (
                    f"principalSet://iam.googleapis.com/{pool_name}"
                    f"/attribute.repository/{trust['repository']}"
                )
            ),
            opts=child,
        )
        for role in roles:
            gcp.projects.IAMMember(
                f"{name}-{role.rsplit('/', 1)[-1].replace('.', '-').lower()}",
                project=project,
                role=role,
                member=account.member,
                opts=child,
            )
        gcp.storage.BucketIAMMember(
            f"{name}-artifacts",
            bucket=bucket,
            role="roles/storage.objectViewer",
            member=account.member,
            opts=child,
        )
        # Deploy writes only what it uploads: code bundles and image build contexts.
        uploads = " || ".join(
            f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{prefix}/")'
            for prefix in ("code", "image-contexts")
        )
        gcp.storage.BucketIAMMember(
            f"{name}-uploads",
            bucket=bucket,
            role="roles/storage.objectCreator",
            member=account.member,
            condition=gcp.storage.BucketIAMMemberConditionArgs(
                title="deploy-uploads", expression=uploads
            ),
            opts=child,
        )
        gcp.artifactregistry.RepositoryIamMember(
            f"{name}-push",
            project=project,
            location=location,
            repository=registry,
            role="roles/artifactregistry.writer",
            member=account.member,
            opts=child,
        )
        self.workload_identity_provider = provider.name
        self.service_account = account.email
        self.register_outputs(
            {"workload_identity_provider": provider.name, "service_account": account.email}
        )


#: Built-in Azure role definition ids (the same in every tenant).
AZURE_ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
AZURE_ML_DATA_SCIENTIST = "f6c7c914-8db3-469d-8ca1-694a8f32e121"
AZURE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
AZURE_ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


class AzureCiIdentity(pulumi.ComponentResource):
    """A user-assigned identity CI signs in as through a federated credential that names the
    repository and environment, granted pushing images, writing artifacts and running Azure ML
    in the environment's resource group."""

    client_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        trust: Trust,
        identity_name: str,
        subscription: str,
        resource_group: str,
        location: str,
        registry: str,
        storage_account: str,
        tags: Mapping[str, str],
        pull_from: Sequence[str] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:azure:CiIdentity", name, None, opts)
        import uuid

        from pulumi_azure_native import authorization, managedidentity

        if "*" in trust["subject"]:
            raise ValueError(
                "an Azure federated credential matches one exact subject; "
                f"{trust['subject']!r} is a pattern"
            )
        # Named identity and role assignments: a replacement deletes first (same names).
        child = pulumi.ResourceOptions(parent=self, delete_before_replace=True)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=identity_name,
            resource_group_name=resource_group,
            location=location,
            tags=dict(tags),
            opts=child,
        )
        managedidentity.FederatedIdentityCredential(
            f"{name}-federated",
            federated_identity_credential_resource_name=f"{trust['provider']}-{trust['environment']}",
            resource_name_=identity.name,
            resource_group_name=resource_group,
            issuer=trust["issuer"],
            subject=trust["subject"],
            audiences=[trust["audience"]],
            opts=child,
        )
        group = f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
        grants = {
            "push": (
                AZURE_ACR_PUSH,
                f"{group}/providers/Microsoft.ContainerRegistry/registries/{registry}",
            ),
            "artifacts": (
                AZURE_BLOB_DATA_CONTRIBUTOR,
                f"{group}/providers/Microsoft.Storage/storageAccounts/{storage_account}",
            ),
            "ml": (AZURE_ML_DATA_SCIENTIST, group),
        }
        # The registries this environment promotes from (resource ids): the principal id is
        # assigned when the identity is made, so the promoting stack grants, not the source's.
        for index, source in enumerate(pull_from):
            grants[f"promote-pull-{index}"] = (AZURE_ACR_PULL, source)
        for key, (role, scope) in grants.items():
            authorization.RoleAssignment(
                f"{name}-{key}",
                role_assignment_name=str(
                    uuid.uuid5(uuid.NAMESPACE_URL, f"mlcompile/ci/{subscription}/{scope}/{role}")
                ),
                role_definition_id=(
                    f"/subscriptions/{subscription}/providers/Microsoft.Authorization/"
                    f"roleDefinitions/{role}"
                ),
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                scope=scope,
                opts=child,
            )
        self.client_id = identity.client_id
        self.tenant_id = identity.tenant_id
        self.register_outputs({"client_id": identity.client_id, "tenant_id": identity.tenant_id})


def for_profile(profile: Profile, name: str = "ci") -> pulumi.ComponentResource:
    """The CI identity of ``profile``'s environment, named by the project's naming function;
    stack outputs ``ci_*`` carry what the workflows log in with."""
    from mlcompile.naming import resource_name

    who = trust(profile)
    identity = resource_name(profile, "ci-identity")
    base = f"{profile.name_prefix}-{profile.environment}"
    cloud = pulumi.ResourceOptions(providers=[_provider(profile)])
    if profile.cloud == "aws":
        aws_identity = AwsCiIdentity(
            name,
            trust=who,
            role_name=identity,
            account=profile.account,
            region=profile.region,
            base=base,
            bucket=resource_name(profile, "artifact-store"),
            registry=resource_name(profile, "container-registry"),
            kms_alias=resource_name(profile, "kms-key"),
            tags=profile.all_tags,
            opts=cloud,
        )
        pulumi.export("ci_role_arn", aws_identity.role_arn)
        return aws_identity
    if profile.cloud == "gcp":
        gcp_identity = GcpCiIdentity(
            name,
            trust=who,
            project=profile.account,
            pool_id=identity,
            account_id=identity,
            bucket=resource_name(profile, "artifact-store"),
            registry=resource_name(profile, "container-registry"),
            location=profile.region,
            opts=cloud,
        )
        pulumi.export("ci_workload_identity_provider", gcp_identity.workload_identity_provider)
        pulumi.export("ci_service_account", gcp_identity.service_account)
        return gcp_identity
    azure_identity = AzureCiIdentity(
        name,
        trust=who,
        identity_name=identity,
        subscription=profile.account,
        resource_group=resource_name(profile, "resource-group"),
        location=profile.region,
        registry=resource_name(profile, "container-registry"),
        storage_account=resource_name(profile, "artifact-store"),
        tags=profile.all_tags,
        opts=cloud,
    )
    pulumi.export("ci_client_id", azure_identity.client_id)
    pulumi.export("ci_tenant_id", azure_identity.tenant_id)
    return azure_identity


def _provider(profile: Profile) -> pulumi.ProviderResource:
    """The profile's own cloud provider: never the ambient credentials' account or region."""
    if profile.cloud == "aws":
        from . import aws

        return aws.provider({"account": profile.account, "region": profile.region})
    if profile.cloud == "gcp":
        from . import gcp

        return gcp.provider({"project": profile.account, "region": profile.region})
    from . import azure

    return azure.provider(profile.account, profile.region)


class PromotionRead(pulumi.ComponentResource):
    """In the platform stack of the environment promoted from: read access to its step-image
    registry for exactly the CI identities of the environments that promote its images (AWS
    role ARNs, GCP service account emails). Azure's grant lives in the promoting stack (see
    :class:`AzureCiIdentity`)."""

    def __init__(
        self,
        name: str,
        *,
        cloud: Literal["aws", "gcp"],
        registry: pulumi.Input[str],
        readers: Sequence[str],
        project: str = "",
        location: str = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:ci:PromotionRead", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if cloud == "aws":
            import pulumi_aws as aws

            aws.ecr.RepositoryPolicy(
                name, repository=registry, policy=aws_repository_read_policy(readers), opts=child
            )
        else:
            import pulumi_gcp as gcp

            for reader in sorted(readers):
                gcp.artifactregistry.RepositoryIamMember(
                    f"{name}-{reader.split('@', 1)[0]}",
                    project=project,
                    location=location,
                    repository=registry,
                    role="roles/artifactregistry.reader",
                    member=f"serviceAccount:{reader}",
                    opts=child,
                )
        self.register_outputs({})
