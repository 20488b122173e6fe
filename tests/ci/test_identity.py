"""The CI identities under Pulumi's mocks: each trusts exactly the repository and environment
its profile names, grants no ``*`` principal, and passes every security rule of the stacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlcompile.infra import policy
from mlcompile.infra.policy import Resource
from tests.conftest import REPO
from tests.infra.harness import run_program

REPOSITORY = "acme/churn"


def _identity(tmp_path: Path, profile: str, ci: str) -> list[Resource]:
    """Run a program that creates the CI identity of ``profile`` with a ``ci`` section."""
    text = (REPO / "targets" / f"{profile}.yaml").read_text() + ci
    (tmp_path / "__main__.py").write_text(
        "from pathlib import Path\n"
        "from mlcompile.infra.ci_identity import for_profile\n"
        "from mlcompile.profiles import parse_profile\n"
        f"for_profile(parse_profile({text!r}, Path({profile + '.yaml'!r})))\n"
    )
    prof = __import__("mlcompile.profiles", fromlist=["parse_profile"]).parse_profile(
        text, Path(f"{profile}.yaml")
    )
    recorder = run_program(
        tmp_path,
        project="platform",
        stack=prof.environment,
        account=prof.account,
        region=prof.region,
    )
    return recorder.resources


def _one(resources: list[Resource], token: str) -> Resource:
    (found,) = [r for r in resources if r.type == token]
    return found


def _no_wildcard_principals(resources: list[Resource]) -> None:
    for resource in resources:
        for key in ("assumeRolePolicy", "policy"):
            text = resource.inputs.get(key)
            if isinstance(text, str) and text.startswith("{"):
                for statement in json.loads(text)["Statement"]:
                    principal = statement.get("Principal")
                    assert principal != "*" and "*" not in json.dumps(principal or {}), resource
        member = str(resource.inputs.get("member", ""))
        assert member not in ("allUsers", "allAuthenticatedUsers"), resource
        assert "*" not in member, resource


def test_aws_role_trusts_exactly_the_repository_and_environment(tmp_path: Path) -> None:
    resources = _identity(tmp_path, "sagemaker-prod", f"ci:\n  repository: {REPOSITORY}\n")
    provider = _one(resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    role = _one(resources, "aws:iam/role:Role")
    assert role.inputs["name"] == "mlc-prod-ci"
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    # The provider this stack created (its ARN as the mocks shape it), and nothing else.
    assert list(statement["Principal"]) == ["Federated"]
    assert statement["Principal"]["Federated"].startswith("arn:aws:iam::444455556666:")
    assert statement["Principal"]["Federated"].endswith("/ci-oidc")
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/churn:environment:prod",
        }
    }
    _no_wildcard_principals(resources)
    assert policy.check(resources) == []
    # The deploy policy names this environment's resources, and cannot rewrite its own role.
    document = json.loads(_one(resources, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    allowed = [r for s in document["Statement"] if s["Effect"] == "Allow" for r in s["Resource"]]
    assert all("mlc-prod" in r or r == "*" or r.endswith(":key/*") for r in allowed), allowed
    denied = [s["Resource"] for s in document["Statement"] if s["Effect"] == "Deny"]
    assert ["arn:aws:iam::444455556666:role/mlc-prod-ci"] in denied
    # Roles it creates or empowers carry the environment's boundary, which it cannot lift.
    boundary = "arn:aws:iam::444455556666:policy/mlc-prod-boundary"
    assert role.inputs["permissionsBoundary"] == boundary
    assert [boundary] in denied


def test_aws_role_for_gitlab_names_the_project_and_its_protected_ref(tmp_path: Path) -> None:
    resources = _identity(
        tmp_path, "sagemaker-dev", "ci:\n  provider: gitlab\n  repository: acme/ml/churn\n"
    )
    assert (
        _one(resources, "aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs["url"]
        == "https://gitlab.com"
    )
    (statement,) = json.loads(_one(resources, "aws:iam/role:Role").inputs["assumeRolePolicy"])[
        "Statement"
    ]
    assert statement["Condition"]["StringEquals"] == {
        "gitlab.com:aud": "sts.amazonaws.com",
        "gitlab.com:sub": "project_path:acme/ml/churn:ref_type:branch:ref:main",
    }
    assert policy.check(resources) == []


def test_gcp_provider_condition_names_the_repository_and_environment(tmp_path: Path) -> None:
    resources = _identity(
        tmp_path, "vertex-dev", f"ci:\n  repository: {REPOSITORY}\n  environment: ml-dev\n"
    )
    pool = _one(resources, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool")
    assert pool.inputs["workloadIdentityPoolId"] == "mlc-dev-ci"
    provider = _one(resources, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    assert provider.inputs["attributeCondition"] == (
        "assertion.repository == 'acme/churn' && assertion.environment == 'ml-dev'"
    )
    assert provider.inputs["oidc"] == {"issuerUri": "https://token.actions.githubusercontent.com"}
    assert provider.inputs["attributeMapping"]["attribute.repository"] == "assertion.repository"
    account = _one(resources, "gcp:serviceaccount/account:Account")
    assert account.inputs["accountId"] == "mlc-dev-ci"
    impersonate = _one(resources, "gcp:serviceaccount/iAMMember:IAMMember")
    assert impersonate.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert impersonate.inputs["member"].endswith("/attribute.repository/acme/churn")
    assert impersonate.inputs["member"].startswith("principalSet://iam.googleapis.com/")
    _no_wildcard_principals(resources)
    assert policy.check(resources) == []


def test_azure_credential_subject_names_the_repository_and_environment(tmp_path: Path) -> None:
    resources = _identity(tmp_path, "kubeflow-azure", f"ci:\n  repository: {REPOSITORY}\n")
    identity = _one(resources, "azure-native:managedidentity:UserAssignedIdentity")
    assert identity.inputs["resourceName"] == "mlc-dev-ci"
    credential = _one(resources, "azure-native:managedidentity:FederatedIdentityCredential")
    assert credential.inputs["subject"] == "repo:acme/churn:environment:dev"
    assert credential.inputs["issuer"] == "https://token.actions.githubusercontent.com"
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    grants = [r for r in resources if r.type == "azure-native:authorization:RoleAssignment"]
    assert len(grants) == 3
    assert all(g.inputs["scope"].startswith("/subscriptions/") for g in grants)
    _no_wildcard_principals(resources)
    assert policy.check(resources) == []


def test_no_repository_no_identity(tmp_path: Path) -> None:
    from mlcompile.infra.ci_identity import trust
    from tests.conftest import profile

    with pytest.raises(ValueError, match=r"ci\.repository"):
        trust(profile("sagemaker-dev"))


def test_gitlab_release_tags_are_refused_on_azure() -> None:
    from mlcompile.infra.ci_identity import trust
    from mlcompile.profiles import parse_profile

    text = (REPO / "targets" / "sagemaker-prod.yaml").read_text()
    prof = parse_profile(text + "ci:\n  provider: gitlab\n  repository: a/b\n", Path("p.yaml"))
    who: Any = trust(prof)
    assert who["subject"] == "project_path:a/b:ref_type:tag:ref:v*"


def test_gcp_provider_for_gitlab_checks_the_project_environment_and_audience(
    tmp_path: Path,
) -> None:
    resources = _identity(
        tmp_path, "vertex-dev", "ci:\n  provider: gitlab\n  repository: acme/ml/churn\n"
    )
    provider = _one(resources, "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider")
    assert provider.inputs["attributeCondition"] == (
        "assertion.project_path == 'acme/ml/churn' && assertion.environment == 'dev'"
    )
    assert provider.inputs["oidc"] == {
        "issuerUri": "https://gitlab.com",
        "allowedAudiences": ["https://iam.googleapis.com/mlcompile-ci"],
    }
    assert policy.check(resources) == []
