"""How a CI job becomes a target's cloud identity without a stored key: the job's OIDC token is
exchanged for short-lived credentials of the identity the platform stack created for CI.

Names that follow from the profile (an AWS role ARN, a GCP service account) are written into
the workflow; names a cloud assigns (a GCP provider's project number, an Azure client id) are
read from CI variables set once from the platform stack's outputs (see :func:`variables`).
"""

from __future__ import annotations

from mlcompile.ci.plan import Plan, Target
from mlcompile.profiles import Profile


def _var(target: Target, what: str) -> str:
    return f"MLCOMPILE_{target.profile.name.upper().replace('-', '_')}_{what}"


def variables(target: Target) -> dict[str, str]:
    """CI variables of ``target``'s environment, each with the platform stack output it holds."""
    cloud = target.profile.cloud
    if cloud == "gcp":
        return {_var(target, "WORKLOAD_IDENTITY_PROVIDER"): "ci_workload_identity_provider"}
    if cloud == "azure":
        return {
            _var(target, "AZURE_CLIENT_ID"): "ci_client_id",
            _var(target, "AZURE_TENANT_ID"): "ci_tenant_id",
        }
    return {}


def aws_role_arn(target: Target) -> str:
    return f"arn:aws:iam::{target.profile.account}:role/{target.identity}"


def gcp_service_account(target: Target) -> str:
    return f"{target.identity}@{target.profile.account}.iam.gserviceaccount.com"


def github_step(target: Target) -> dict[str, object]:
    """The login step of a GitHub Actions job (the job asks for ``id-token: write``)."""
    from mlcompile.ci.actions import uses

    profile = target.profile
    name = f"Log in to {profile.cloud.upper()} as {target.identity} (OIDC, no stored key)"
    if profile.cloud == "aws":
        return {
            "name": name,
            "uses": uses("aws-actions/configure-aws-credentials"),
            "with": {
                "role-to-assume": aws_role_arn(target),
                "aws-region": profile.region,
                "role-session-name": "mlcompile-${{ github.run_id }}",
            },
        }
    if profile.cloud == "gcp":
        (provider,) = variables(target)
        return {
            "name": name,
            "uses": uses("google-github-actions/auth"),
            "with": {
                "workload_identity_provider": f"${{{{ vars.{provider} }}}}",
                "service_account": gcp_service_account(target),
            },
        }
    client, tenant = variables(target)
    return {
        "name": name,
        "uses": uses("azure/login"),
        "with": {
            "client-id": f"${{{{ vars.{client} }}}}",
            "tenant-id": f"${{{{ vars.{tenant} }}}}",
            "subscription-id": profile.account,
        },
    }


TOKEN = "MLCOMPILE_ID_TOKEN"


def gitlab_script(target: Target) -> list[str]:
    """Shell lines of a GitLab job that turn its ID token into the target's cloud credentials
    through each SDK's standard web-identity variables."""
    profile = target.profile
    lines = [
        'printf "%s" "$' + TOKEN + '" > "$CI_PROJECT_DIR/.mlcompile-id-token"',
    ]
    token_file = "$CI_PROJECT_DIR/.mlcompile-id-token"
    if profile.cloud == "aws":
        return [
            *lines,
            f'export AWS_WEB_IDENTITY_TOKEN_FILE="{token_file}"',
            f"export AWS_ROLE_ARN={aws_role_arn(target)}",
            "export AWS_ROLE_SESSION_NAME=mlcompile-$CI_JOB_ID",
            f"export AWS_REGION={profile.region}",
        ]
    if profile.cloud == "gcp":
        (provider,) = variables(target)
        account = gcp_service_account(target)
        config = (
            '{"type":"external_account","audience":"//iam.googleapis.com/%s",'
            '"subject_token_type":"urn:ietf:params:oauth:token-type:jwt",'
            '"token_url":"https://sts.googleapis.com/v1/token",'
            '"credential_source":{"file":"%s"},'
            '"service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/'
            'projects/-/serviceAccounts/%s:generateAccessToken"}'
        )
        return [
            *lines,
            f'printf \'{config}\' "${provider}" "{token_file}" "{account}"'
            ' > "$CI_PROJECT_DIR/.mlcompile-gcp.json"',
            'export GOOGLE_APPLICATION_CREDENTIALS="$CI_PROJECT_DIR/.mlcompile-gcp.json"',
            f"export GOOGLE_CLOUD_PROJECT={profile.account}",
        ]
    client, tenant = variables(target)
    return [
        *lines,
        f'export AZURE_CLIENT_ID="${client}" ARM_CLIENT_ID="${client}"',
        f'export AZURE_TENANT_ID="${tenant}" ARM_TENANT_ID="${tenant}"',
        f"export ARM_SUBSCRIPTION_ID={profile.account}",
        f'export AZURE_FEDERATED_TOKEN_FILE="{token_file}" ARM_USE_OIDC=true',
        'export ARM_OIDC_TOKEN="$' + TOKEN + '"',
    ]


def _registry_host(profile: Profile) -> str:
    from mlcompile.images.registry import repository

    return repository(profile).split("/", 1)[0]


def promotion_sources(plan: Plan, target: Target) -> list[Profile]:
    """The profiles whose tested images ``target`` promotes: the one its ``ci.promote_from``
    names when it is in the plan, else the plan's dev profiles on the same cloud."""
    named = [t.profile for t in plan.targets if t.profile.name == target.profile.ci.promote_from]
    if named:
        return named
    return [t.profile for t in plan.stage("dev") if t.profile.cloud == target.profile.cloud]


def registry_logins(plan: Plan, target: Target) -> list[str]:
    """Shell lines that log ``skopeo`` in to the tested registries (to read) and the target's
    (to push) with the short-lived credentials the job's cloud login gave, into an auth file
    outside the workspace, so a promotion copies by digest with no stored registry password."""
    profile = target.profile
    # A registry of the profile's own (images.registry) is logged in to by whoever set it up.
    hosts = sorted(
        {
            _registry_host(p)
            for p in [*promotion_sources(plan, target), profile]
            if not p.images.registry and p.cloud == profile.cloud
        }
    )
    lines = ['export REGISTRY_AUTH_FILE="$(mktemp -d)/registry-auth.json"']
    for host in hosts:
        if profile.cloud == "aws":
            # One ECR token serves every registry the role may read
            # (https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html).
            region = host.split(".")[3]
            lines.append(
                f"aws ecr get-login-password --region {region}"
                f" | skopeo login --username AWS --password-stdin {host}"
            )
        elif profile.cloud == "gcp":
            # https://cloud.google.com/artifact-registry/docs/docker/authentication#token
            lines.append(
                'python -c "import google.auth, google.auth.transport.requests as t;'
                " c, _ = google.auth.default(scopes=['https://www.googleapis.com/auth/cloud-platform']);"
                ' c.refresh(t.Request()); print(c.token)"'
                f" | skopeo login --username oauth2accesstoken --password-stdin {host}"
            )
        else:
            # https://learn.microsoft.com/azure/container-registry/container-registry-authentication#az-acr-login-with---expose-token
            name = host.split(".", 1)[0]
            lines.append(
                f"az acr login --name {name} --expose-token --output tsv --query accessToken"
                " | skopeo login --username 00000000-0000-0000-0000-000000000000"
                f" --password-stdin {host}"
            )
    return lines
