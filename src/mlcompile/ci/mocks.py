"""Run generated Pulumi programs under Pulumi's mocks, with no CLI and no cloud, and check what
they register against the security rules (``mlcompile.infra.policy``).

``python -m mlcompile.ci.mocks INFRA_DIR...`` is what a pull request's CI job runs: a program
that fails, or a resource that breaks a rule, fails the job before anything is deployed.
Mocked outputs are shaped like the real ones where programs read them (ARNs, emails, ids).
"""

from __future__ import annotations

import json
import runpy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlcompile.infra.policy import Resource


def _aws_arn(token: str, name: str, account: str, region: str) -> str:
    service, _, kind = token.split(":")[1].partition("/")
    if token == "aws:s3/bucket:Bucket":
        return f"arn:aws:s3:::{name}"
    if service == "iam":
        return f"arn:aws:iam::{account}:{kind}/{name}"
    return f"arn:aws:{service}:{region}:{account}:{kind.lower()}/{name}"


def run(folder: Path, config: Mapping[str, str] | None = None) -> list[Resource]:
    """Every resource ``folder/__main__.py`` registers, with its inputs."""
    import pulumi
    from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    stack = json.loads((folder / "stack.json").read_text(encoding="utf-8"))
    account, region = str(stack.get("account", "")), str(stack.get("region", ""))
    registered: list[Resource] = []

    class Recorder(Mocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
            registered.append(Resource(args.typ, args.name, dict(args.inputs)))
            state = dict(args.inputs)
            name = str(state.get("name") or state.get("bucket") or args.name)
            if args.typ.startswith("aws:"):
                state.setdefault("arn", _aws_arn(args.typ, name, account, region))
                state.setdefault("keyId", f"key-{args.name}")
                state.setdefault(
                    "repositoryUrl", f"{account}.dkr.ecr.{region}.amazonaws.com/{name}"
                )
            elif args.typ.startswith("gcp:"):
                if "accountId" in state:
                    state["email"] = f"{state['accountId']}@{account}.iam.gserviceaccount.com"
                    state["member"] = f"serviceAccount:{state['email']}"
                if "service" in state:
                    state.setdefault("email", f"service-0@gcp-sa-{state['service']}")
                    state.setdefault("member", f"serviceAccount:{state['email']}")
                state.setdefault("name", name)
            elif args.typ.startswith("azure-native:"):
                state.pop("identity", None)
                state.setdefault("principalId", "00000000-0000-0000-0000-000000000001")
                state.setdefault("clientId", "00000000-0000-0000-0000-000000000002")
                state.setdefault("keyUri", "https://vault.invalid/keys/k")
                state.setdefault("keyUriWithVersion", "https://vault.invalid/keys/k/1")
            # AWS side resources name their bucket by its id, which is the bucket's name.
            return (name if args.typ.startswith("aws:") else f"{args.name}-id"), state

        def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
            email = "service-0@gs-project-accounts.iam.gserviceaccount.com"
            return {
                "emailAddress": email,
                "member": f"serviceAccount:{email}",
                "tenantId": "00000000-0000-0000-0000-000000000003",
                "subscriptionId": account,
                "objectId": "00000000-0000-0000-0000-000000000004",
                "clientId": "00000000-0000-0000-0000-000000000005",
            }, []

    project = str(stack.get("needs", {}).get("pipeline_name") or folder.name)
    pulumi.runtime.set_mocks(
        Recorder(), project=project, stack=str(stack.get("environment", "dev")), preview=False
    )
    pulumi.runtime.set_all_config({f"{project}:{k}": v for k, v in (config or {}).items()})
    settings = pulumi.runtime.settings.SETTINGS
    settings.rpc_manager.clear()
    settings.outputs.clear()
    program = str(folder / "__main__.py")

    def body() -> None:
        runpy.run_path(program, run_name="__main__")

    _sync_await(run_pulumi_func(body))
    return registered


def _placeholders(folder: Path) -> dict[str, str]:
    """A value for each optional setting, as an operator sets them once models exist."""
    optional = json.loads((folder / "stack.json").read_text(encoding="utf-8")).get(
        "optional_config", {}
    )
    return {key: f"placeholder-{key}" for key in optional}


def main(folders: list[str]) -> int:
    from mlcompile.infra import policy

    failed = 0
    for name in folders:
        folder = Path(name)
        try:
            resources = run(folder, _placeholders(folder))
        except Exception as exc:  # the program's own error, shown as the job's failure
            print(
                f"{folder.as_posix()}: the program failed under mocks: {type(exc).__name__}: {exc}"
            )
            failed += 1
            continue
        violations = policy.check(resources)
        print(f"{folder.as_posix()}: {len(resources)} resources, {len(violations)} rule violations")
        for violation in violations:
            print(f"  {violation}")
        failed += bool(violations)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
