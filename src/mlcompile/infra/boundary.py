"""The permissions boundary every role of an AWS environment carries.

CI may create roles named for its environment and put policies on them (``pulumi up`` of a
pipeline stack). Without a ceiling that is privilege escalation: CI could write itself a role
that does anything. A permissions boundary caps what any role can do whatever its own policies
say (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), so every
role the stacks create carries this one, CI may only create or change roles that carry it, and
nothing may remove it or change its text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi

#: IAM, the organization and the account's own settings: what no role of a stack manages
#: beyond the narrow grants below.
_OUTSIDE = ["account:*", "iam:*", "organizations:*"]
#: What CI does to the environment's roles besides creating them and putting their policies.
_ROLE_UPKEEP = [
    "iam:DeleteRole",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
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
]
#: Creating a role or giving it permissions: allowed only with this boundary attached
#: (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PermissionsBoundary).
BOUNDED_ACTIONS = [
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
]
#: Changing the boundary's own text or taking it off a role.
BOUNDARY_CHANGES = [
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
]


def base_of(role_name: str) -> str:
    """The environment's naming base (``prefix-environment``) a role name starts with: neither
    part may hold a hyphen, so it is the first two hyphenated parts."""
    return "-".join(role_name.split("-")[:2])


def policy_name(base: str) -> str:
    return f"{base}-boundary"


def boundary_arn(account: str, role_name: str) -> str:
    """The ARN of the boundary of the environment ``role_name`` belongs to."""
    return f"arn:aws:iam::{account}:policy/{policy_name(base_of(role_name))}"


def condition(arn: str) -> dict[str, Any]:
    return {"StringEquals": {"iam:PermissionsBoundary": arn}}


def denials(account: str, arn: str) -> list[dict[str, Any]]:
    """What no role may do to the boundary, in the boundary and in CI's own policy alike."""
    return [
        {
            "Effect": "Deny",
            "Action": ["iam:DeleteRolePermissionsBoundary"],
            "Resource": [f"arn:aws:iam::{account}:role/*"],
        },
        {
            "Effect": "Deny",
            "Action": ["iam:PutRolePermissionsBoundary"],
            "Resource": [f"arn:aws:iam::{account}:role/*"],
            "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": arn}},
        },
        {"Effect": "Deny", "Action": sorted(BOUNDARY_CHANGES), "Resource": [arn]},
    ]


def document(account: str, base: str) -> str:
    """The boundary: anything outside IAM (each role's own policy narrows it), the
    environment's roles only while they carry this boundary, and no way to lift it."""
    arn = f"arn:aws:iam::{account}:policy/{policy_name(base)}"
    roles = [f"arn:aws:iam::{account}:role/{base}-*"]
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "NotAction": _OUTSIDE, "Resource": "*"},
        {"Effect": "Allow", "Action": sorted(_ROLE_UPKEEP), "Resource": roles},
        {
            "Effect": "Allow",
            "Action": sorted(BOUNDED_ACTIONS),
            "Resource": roles,
            "Condition": condition(arn),
        },
        *denials(account, arn),
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


class PermissionsBoundary(pulumi.ComponentResource):
    """The environment's boundary, a managed policy of the platform stack."""

    arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        account: str,
        base: str,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlcompile:aws:PermissionsBoundary", name, None, opts)
        import pulumi_aws as aws

        policy = aws.iam.Policy(
            name,
            name=policy_name(base),
            description=f"The ceiling of every role in {base}",
            policy=document(account, base),
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = policy.arn
        self.register_outputs({"arn": policy.arn})
