"""Promotion reads the dev registry with the promoting environment's own CI identity, and every
AWS role carries its environment's permissions boundary. The platform stacks are generated from
profiles beside each other (``ci.promote_from`` names the dev profile) and run under mocks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcompile.errors import UserError
from mlcompile.infra import policy
from mlcompile.infra.generator import generate_platform
from mlcompile.infra.policy import Resource
from mlcompile.naming import resource_name
from mlcompile.profiles import AzureSettings, CiSettings, Profile
from tests.conftest import profile
from tests.infra.harness import run_project


def _pair(dev: str, promoted: str, **changes: object) -> tuple[Profile, Profile]:
    """A dev profile and one promoted from it (another environment, another account)."""
    source = profile(dev).model_copy(update={"ci": CiSettings(repository="acme/churn")})
    target = source.model_copy(
        update={
            "name": promoted,
            "environment": "prod",
            "ci": CiSettings(repository="acme/churn", promote_from=source.name),
            **changes,
        }
    )
    return source, target


def _no_wildcard_principals(resources: list[Resource]) -> None:
    """No statement allows ``*`` principals, no IAM member is everyone (a Deny of plain HTTP to
    ``*`` is a bucket's TLS rule, not a grant)."""
    for resource in resources:
        for key in ("assumeRolePolicy", "policy"):
            text = resource.inputs.get(key)
            if isinstance(text, str) and text.startswith("{"):
                for statement in json.loads(text)["Statement"]:
                    if statement["Effect"] == "Allow":
                        assert "*" not in json.dumps(statement.get("Principal", {})), resource
        member = str(resource.inputs.get("member", ""))
        assert member not in ("allUsers", "allAuthenticatedUsers") and "*" not in member


def _documents(resources: list[Resource], token: str) -> list[dict[str, object]]:
    return [json.loads(r.inputs["policy"]) for r in resources if r.type == token]


@pytest.mark.slow
def test_aws_dev_registry_lets_exactly_the_promoting_roles_pull(tmp_path: Path) -> None:
    dev, prod = _pair("sagemaker-dev", "sagemaker-prod", account="444455556666")
    dev_stack = run_project(generate_platform(dev, [prod]), tmp_path / "dev", dev)
    (document,) = _documents(dev_stack.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy")
    (statement,) = document["Statement"]  # type: ignore[misc]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::444455556666:role/mlc-prod-ci"]}
    assert statement["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    _no_wildcard_principals(dev_stack.resources)
    assert policy.check(dev_stack.resources) == []

    prod_stack = run_project(generate_platform(prod, [dev]), tmp_path / "prod", prod)
    assert not _documents(prod_stack.resources, "aws:ecr/repositoryPolicy:RepositoryPolicy")
    (ci_policy,) = _documents(prod_stack.resources, "aws:iam/rolePolicy:RolePolicy")
    statements = ci_policy["Statement"]
    assert isinstance(statements, list)
    dev_repository = "arn:aws:ecr:eu-west-1:111122223333:repository/mlc-dev-steps"
    pulls = [s for s in statements if dev_repository in s["Resource"]]
    assert [set(s["Action"]) for s in pulls] == [
        {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    ]
    assert any(s["Action"] == ["ecr:GetAuthorizationToken"] for s in statements)
    assert policy.check(prod_stack.resources, production=True) == []


@pytest.mark.slow
def test_every_aws_role_carries_the_boundary_ci_cannot_lift(tmp_path: Path) -> None:
    dev = profile("sagemaker-dev").model_copy(
        update={
            "ci": CiSettings(repository="acme/churn"),
            "images": profile("sagemaker-dev").images.model_copy(update={"builder": "codebuild"}),
        }
    )
    stack = run_project(generate_platform(dev), tmp_path, dev)
    (boundary,) = [r for r in stack.resources if r.type == "aws:iam/policy:Policy"]
    arn = "arn:aws:iam::111122223333:policy/mlc-dev-boundary"
    assert boundary.inputs["name"] == "mlc-dev-boundary"
    roles = [r for r in stack.resources if r.type == "aws:iam/role:Role"]
    assert len(roles) == 2  # CI's and the image builder's
    assert {r.inputs["permissionsBoundary"] for r in roles} == {arn}
    # Under the boundary a role creates or empowers roles only with the boundary attached.
    (ci_policy,) = [r for r in stack.resources if r.name == "ci-deploy"]
    for document in (json.loads(boundary.inputs["policy"]), json.loads(ci_policy.inputs["policy"])):
        statements = document["Statement"]
        creating = [s for s in statements if "iam:CreateRole" in s.get("Action", [])]
        assert [s["Effect"] for s in creating] == ["Allow"]
        assert creating[0]["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": arn}}
        assert {"iam:AttachRolePolicy", "iam:PutRolePolicy"} <= set(creating[0]["Action"])
        denied = {a for s in statements if s["Effect"] == "Deny" for a in s["Action"]}
        assert {"iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion"} <= denied
    assert policy.check(stack.resources) == []
    # The rule notices a role without it.
    bare = [
        Resource(
            r.type,
            r.name,
            {k: v for k, v in r.inputs.items() if k != "permissionsBoundary"},
            r.provider,
        )
        for r in roles
    ]
    assert {v.rule for v in policy.check(bare)} == {"permissions-boundary"}


@pytest.mark.slow
def test_gcp_dev_registry_lets_the_promoting_service_account_read(tmp_path: Path) -> None:
    dev, prod = _pair("vertex-dev", "vertex-prod", account="mlc-prod-project")
    stack = run_project(generate_platform(dev, [prod]), tmp_path, dev)
    readers = [
        r
        for r in stack.resources
        if r.type == "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
        and r.inputs["role"] == "roles/artifactregistry.reader"
    ]
    assert [r.inputs["member"] for r in readers] == [
        "serviceAccount:mlc-prod-ci@mlc-prod-project.iam.gserviceaccount.com"
    ]
    # On the stack's own step-image repository (the mocks name it by its logical name).
    (repository,) = [
        r
        for r in stack.resources
        if r.type == "gcp:artifactregistry/repository:Repository"
        and r.name == readers[0].inputs["repository"]
    ]
    assert repository.inputs["repositoryId"] == resource_name(dev, "container-registry")
    _no_wildcard_principals(stack.resources)
    assert policy.check(stack.resources) == []


@pytest.mark.slow
def test_azure_promoting_identity_pulls_from_the_dev_registry(tmp_path: Path) -> None:
    dev, prod = _pair("kubeflow-azure", "kubeflow-azure-prod", azure=AzureSettings())
    stack = run_project(generate_platform(prod, [dev]), tmp_path, prod)
    pulls = [
        r
        for r in stack.resources
        if r.type == "azure-native:authorization:RoleAssignment"
        and str(r.inputs["roleDefinitionId"]).endswith("7f951dda-4ed3-4680-a7ca-43fe172d538d")
    ]
    assert len(pulls) == 1
    assert pulls[0].inputs["scope"] == (
        f"/subscriptions/{dev.account}/resourceGroups/mlc-dev-ml"
        f"/providers/Microsoft.ContainerRegistry/registries/{resource_name(dev, 'container-registry')}"
    )
    assert pulls[0].inputs["principalType"] == "ServicePrincipal"
    assert policy.check(stack.resources, production=True) == []


def test_promote_from_an_unknown_profile_is_refused() -> None:
    _, prod = _pair("sagemaker-dev", "sagemaker-prod")
    with pytest.raises(UserError) as raised:
        generate_platform(prod, [])
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "MLC806"
    assert "sagemaker-dev" in diagnostic.message
