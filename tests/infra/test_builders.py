"""The image-builder components under Pulumi mocks: what each registers, scoped to the step-image
registry and the build-context prefix, and clean under the stack policy rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcompile.images.registry import CONTEXT_PREFIX
from mlcompile.infra import builders, policy
from mlcompile.naming import resource_name
from tests.conftest import profile
from tests.infra.harness import run_program

pytestmark = pytest.mark.slow

AWS = """
import pulumi
from mlcompile.infra.builders import CodeBuildImageBuilder
import pulumi_aws as aws
from mlcompile.infra.aws import provider

cloud = pulumi.ResourceOptions(
    providers=[provider({{"account": "111122223333", "region": "eu-west-1"}})]
)
key = aws.kms.Key("key", enable_key_rotation=True, opts=cloud)
repo = aws.ecr.Repository("repo", name={repo!r}, image_tag_mutability="IMMUTABLE",
    encryption_configurations=[{{"encryption_type": "KMS", "kms_key": key.arn}}],
    opts=pulumi.ResourceOptions.merge(cloud, pulumi.ResourceOptions(delete_before_replace=True)))
CodeBuildImageBuilder("image-builder", name={name!r}, account="111122223333", region="eu-west-1",
    repository_arn=repo.arn, bucket={bucket!r}, key_arn=key.arn, tags={{"team": "ml"}},
    opts=cloud)
"""
GCP = """
import pulumi
from mlcompile.infra.builders import CloudBuildImageBuilder
from mlcompile.infra.gcp import provider

cloud = pulumi.ResourceOptions(
    providers=[provider({{"project": "mlc-dev-project", "region": "europe-west4"}})]
)
CloudBuildImageBuilder("image-builder", name={name!r}, project="mlc-dev-project",
    region="europe-west4", repository={repo!r}, bucket={bucket!r}, opts=cloud)
"""
AZURE = """
import pulumi
from mlcompile.infra.azure import provider
from mlcompile.infra.builders import AcrImageBuilder

cloud = pulumi.ResourceOptions(
    providers=[provider("00000000-0000-0000-0000-000000000000", "westeurope")]
)
AcrImageBuilder("image-builder", name={name!r}, registry_id={registry!r},
    principal_id="00000000-0000-0000-0000-0000000000cc", opts=cloud)
"""


def _run(tmp_path: Path, source: str, account: str, region: str) -> list[policy.Resource]:
    (tmp_path / "__main__.py").write_text(source)
    recorder = run_program(
        tmp_path, project="builders", stack="dev", account=account, region=region
    )
    assert policy.check(recorder.resources) == []
    return recorder.resources


def _one(resources: list[policy.Resource], token: str) -> policy.Resource:
    [found] = [r for r in resources if r.type == token]
    return found


def test_codebuild_project_and_role(tmp_path: Path) -> None:
    p = profile("sagemaker-dev")
    name = resource_name(p, "image-builder")
    bucket = resource_name(p, "artifact-store")
    repo = resource_name(p, "container-registry")
    resources = _run(tmp_path, AWS.format(repo=repo, name=name, bucket=bucket), p.account, p.region)
    project = _one(resources, "aws:codebuild/project:Project")
    assert project.inputs["name"] == name
    assert project.inputs["source"] == {"type": "S3", "location": f"{bucket}/{CONTEXT_PREFIX}/"}
    assert project.inputs["environment"]["privilegedMode"] is True
    assert project.inputs["encryptionKey"].startswith("arn:aws:kms:")
    assert project.inputs["serviceRole"] == f"arn:aws:iam::111122223333:role/{name}"
    statements = json.loads(_one(resources, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])[
        "Statement"
    ]
    resources_by_action = {a: s["Resource"] for s in statements for a in s["Action"]}
    assert resources_by_action["ecr:PutImage"] == [
        f"arn:aws:ecr:eu-west-1:111122223333:repository/{repo}"
    ]
    assert resources_by_action["s3:GetObject"] == [f"arn:aws:s3:::{bucket}/{CONTEXT_PREFIX}/*"]
    assert "s3:PutObject" not in resources_by_action
    trust = json.loads(_one(resources, "aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "codebuild.amazonaws.com"}


def test_cloud_build_service_account(tmp_path: Path) -> None:
    p = profile("vertex-dev")
    name = resource_name(p, "image-builder")
    bucket = resource_name(p, "artifact-store")
    repo = resource_name(p, "container-registry")
    resources = _run(tmp_path, GCP.format(name=name, repo=repo, bucket=bucket), p.account, p.region)
    assert _one(resources, "gcp:serviceaccount/account:Account").inputs["accountId"] == name
    push = _one(resources, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
    assert (push.inputs["repository"], push.inputs["role"]) == (
        repo,
        "roles/artifactregistry.writer",
    )
    read = _one(resources, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert read.inputs["role"] == "roles/storage.objectViewer"
    assert read.inputs["condition"]["expression"] == (
        f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{CONTEXT_PREFIX}/")'
    )
    assert (
        _one(resources, "gcp:projects/iAMMember:IAMMember").inputs["role"]
        == "roles/logging.logWriter"
    )


def test_acr_build_role(tmp_path: Path) -> None:
    p = profile("kubeflow-azure")
    registry = (
        f"/subscriptions/{p.account}/resourceGroups/mlc-dev-ml/providers/"
        f"Microsoft.ContainerRegistry/registries/{resource_name(p, 'container-registry')}"
    )
    name = resource_name(p, "image-builder")
    resources = _run(tmp_path, AZURE.format(name=name, registry=registry), p.account, p.region)
    role = _one(resources, "azure-native:authorization:RoleDefinition")
    assert role.inputs["assignableScopes"] == [registry] and role.inputs["scope"] == registry
    assert role.inputs["permissions"] == [
        {"actions": list(builders.ACR_BUILD_ACTIONS), "notActions": []}
    ]
    assignment = _one(resources, "azure-native:authorization:RoleAssignment")
    assert assignment.inputs["scope"] == registry
    assert assignment.inputs["principalId"] == "00000000-0000-0000-0000-0000000000cc"
