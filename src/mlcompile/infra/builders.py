"""What step-image builders need in the platform stack, one component per cloud, each scoped to
the step-image registry and the build-context prefix of the artifact store.

- AWS: a CodeBuild project and its role: push to the step-image ECR repository only, read
  contexts under ``image-contexts/`` only, write its own log group.
- GCP: the service account Cloud Build runs as: writer on the step-image Artifact Registry
  repository, reader of ``image-contexts/`` objects (an IAM condition), log writer.
- Azure: a custom role on the registry, assignable there only, with exactly the actions a
  quick run needs (upload a context, schedule a run, read it and its logs, read tags), given to
  the identity that builds (the CI identity).

Names come from ``resource_name(profile, 'image-builder')``, the name the builders look up.
Providers are imported per component, so a stack on one cloud needs only that cloud's SDK.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import pulumi

#: The artifact-store prefix build contexts are uploaded under (``mlcompile.images.registry``).
CONTEXT_PREFIX = "image-contexts"
#: The CodeBuild image with Docker; builds need privileged mode to run the Docker daemon.
CODEBUILD_IMAGE = "aws/codebuild/standard:7.0"
#: What a quick run on ACR needs, and nothing else (``az acr build`` without ``--no-push``).
ACR_BUILD_ACTIONS = (
    "Microsoft.ContainerRegistry/registries/read",
    "Microsoft.ContainerRegistry/registries/listBuildSourceUploadUrl/action",
    "Microsoft.ContainerRegistry/registries/scheduleRun/action",
    "Microsoft.ContainerRegistry/registries/runs/read",
    "Microsoft.ContainerRegistry/registries/runs/listLogSasUrl/action",
    "Microsoft.ContainerRegistry/registries/pull/read",
)


def _document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


class CodeBuildImageBuilder(pulumi.ComponentResource):
    """The CodeBuild project ``mlcompile images`` starts builds of (``images.builder:
    codebuild``), and the role it runs as."""

    project: Any
    role: Any

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        account: str,
        region: str,
        repository_arn: pulumi.Input[str],
        bucket: str,
        key_arn: pulumi.Input[str],
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        import pulumi_aws as aws

        from .boundary import boundary_arn

        super().__init__("mlcompile:aws:CodeBuildImageBuilder", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "codebuild.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                }
            ],
        }
        self.role = aws.iam.Role(
            resource_name,
            name=name,
            assume_role_policy=json.dumps(trust, sort_keys=True),
            permissions_boundary=boundary_arn(account, name),
            tags=dict(tags),
            opts=child,
        )
        log_group = f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/{name}"
        statements: list[dict[str, Any]] = [
            {
                "Effect": "Allow",
                "Action": sorted(
                    [
                        "ecr:BatchCheckLayerAvailability",
                        "ecr:BatchGetImage",
                        "ecr:CompleteLayerUpload",
                        "ecr:DescribeImages",
                        "ecr:InitiateLayerUpload",
                        "ecr:PutImage",
                        "ecr:UploadLayerPart",
                    ]
                ),
                "Resource": [repository_arn],
            },
            {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": [f"arn:aws:s3:::{bucket}/{CONTEXT_PREFIX}/*"],
            },
            {
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": [key_arn],
            },
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [log_group, f"{log_group}:*"],
            },
        ]
        aws.iam.RolePolicy(
            f"{resource_name}-policy", role=self.role.id, policy=_document(statements), opts=child
        )
        self.project = aws.codebuild.Project(
            resource_name,
            name=name,
            description="Builds mlcompile step images from their content-addressed contexts",
            service_role=self.role.arn,
            encryption_key=key_arn,
            build_timeout=60,
            source={"type": "S3", "location": f"{bucket}/{CONTEXT_PREFIX}/"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "compute_type": "BUILD_GENERAL1_SMALL",
                "image": CODEBUILD_IMAGE,
                "type": "LINUX_CONTAINER",
                "privileged_mode": True,
            },
            logs_config={"cloudwatch_logs": {"group_name": f"/aws/codebuild/{name}"}},
            tags=dict(tags),
            opts=child,
        )
        self.register_outputs({"project": self.project.name, "role": self.role.arn})


class CloudBuildImageBuilder(pulumi.ComponentResource):
    """The service account Cloud Build runs step-image builds as (``images.builder:
    cloudbuild``), with its grants."""

    account: Any

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        project: str,
        region: str,
        repository: pulumi.Input[str],
        bucket: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        import pulumi_gcp as gcp

        super().__init__("mlcompile:gcp:CloudBuildImageBuilder", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.account = gcp.serviceaccount.Account(
            resource_name,
            account_id=name,
            project=project,
            display_name="mlcompile step-image builds",
            opts=child,
        )
        gcp.artifactregistry.RepositoryIamMember(
            f"{resource_name}-push",
            project=project,
            location=region,
            repository=repository,
            role="roles/artifactregistry.writer",
            member=self.account.member,
            opts=child,
        )
        contexts = pulumi.Output.concat(
            'resource.name.startsWith("projects/_/buckets/', bucket, f'/objects/{CONTEXT_PREFIX}/")'
        )
        gcp.storage.BucketIAMMember(
            f"{resource_name}-contexts",
            bucket=bucket,
            role="roles/storage.objectViewer",
            member=self.account.member,
            condition={"title": "build-contexts-only", "expression": contexts},
            opts=child,
        )
        gcp.projects.IAMMember(
            f"{resource_name}-logs",
            project=project,
            role="roles/logging.logWriter",
            member=self.account.member,
            opts=child,
        )
        self.register_outputs({"email": self.account.email})


class AcrImageBuilder(pulumi.ComponentResource):
    """A role on the step-image registry with what an ACR quick run needs (``images.builder:
    acr``), given to the identity that builds images."""

    role: Any

    def __init__(
        self,
        resource_name: str,
        *,
        name: str,
        registry_id: pulumi.Input[str],
        principal_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        from pulumi_azure_native import authorization

        super().__init__("mlcompile:azure:AcrImageBuilder", resource_name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = authorization.RoleDefinition(
            resource_name,
            # A stable GUID per name: a redeploy updates the role instead of adding one.
            role_definition_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"mlcompile:{name}")),
            role_name=name,
            description="Build and push mlcompile step images with ACR tasks, in this registry only",
            scope=registry_id,
            assignable_scopes=[registry_id],
            permissions=[{"actions": list(ACR_BUILD_ACTIONS), "not_actions": []}],
            opts=child,
        )
        authorization.RoleAssignment(
            f"{resource_name}-builder",
            scope=registry_id,
            role_definition_id=self.role.id,
            principal_id=principal_id,
            principal_type="ServicePrincipal",
            opts=child,
        )
        self.register_outputs({"role": self.role.id})
