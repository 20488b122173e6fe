"""Run generated Pulumi programs under Pulumi's mocks, with no CLI and no cloud, and check what
they register against the security rules (``mlcompile.infra.policy``).

``python -m mlcompile.ci.mocks INFRA_DIR...`` is what a pull request's CI job runs: a program
that fails, or a resource that breaks a rule, fails the job before anything is deployed.
``--resources INFRA_DIR`` prints what the programs register instead, for ``mlcompile diff``.
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


def run(
    folder: Path,
    config: Mapping[str, str] | None = None,
    references: Mapping[str, Mapping[str, Any]] | None = None,
    exports: dict[str, Any] | None = None,
) -> list[Resource]:
    """Every resource ``folder/__main__.py`` registers, with its inputs; ``references`` answer
    its StackReferences (by stack name) and ``exports`` receives what it exports."""
    import pulumi
    from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    stack = json.loads((folder / "stack.json").read_text(encoding="utf-8"))
    account, region = str(stack.get("account", "")), str(stack.get("region", ""))
    registered: list[Resource] = []
    # The resource options the rules read (protect, delete_before_replace), by type and name:
    # a transformation sees them before the mock registers the resource.
    options: dict[tuple[str, str], dict[str, Any]] = {}

    def record_options(args: pulumi.ResourceTransformationArgs) -> None:
        opts = args.opts
        options[args.type_, args.name] = {
            "protect": opts.protect,
            "retain_on_delete": opts.retain_on_delete,
            "delete_before_replace": opts.delete_before_replace,
        }

    class Recorder(Mocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
            registered.append(
                Resource(
                    args.typ,
                    args.name,
                    dict(args.inputs),
                    args.provider or "",
                    custom=bool(args.custom),
                    options=options.get((args.typ, args.name), {}),
                )
            )
            state = dict(args.inputs)
            if args.typ == "pulumi:pulumi:StackReference":
                stack_name = str(state["name"])
                outputs = dict((references or {}).get(stack_name, {}))
                return stack_name, {"name": stack_name, "outputs": outputs, "secretOutputNames": []}
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
    exported: dict[str, Any] = {}
    original_export = pulumi.export

    def export(name: str, value: Any) -> None:
        exported[name] = value

    # Each project carries its own copy of the components (mlcompile_infra): import this one's.
    for module in [m for m in sys.modules if m.split(".")[0] == "mlcompile_infra"]:
        del sys.modules[module]

    def body() -> None:
        pulumi.runtime.register_stack_transformation(record_options)
        runpy.run_path(str(folder), run_name="__main__")

    pulumi.export = export
    try:
        _sync_await(run_pulumi_func(body))
    finally:
        pulumi.export = original_export
    if exports is not None:
        for name, value in exported.items():
            exports[name] = (
                _sync_await(value.future()) if isinstance(value, pulumi.Output) else value
            )
    return registered


def projects(folder: Path) -> list[Path]:
    """The Pulumi projects of an ``mlcompile infra`` folder, the platform stack first (the
    pipeline stack reads its outputs); a folder that is one project is itself."""
    split = [folder / "platform", folder / "pipeline"]
    return split if all((p / "stack.json").is_file() for p in split) else [folder]


def _placeholders(folder: Path) -> dict[str, str]:
    """A value for each optional setting, as an operator sets them once models exist."""
    optional = json.loads((folder / "stack.json").read_text(encoding="utf-8")).get(
        "optional_config", {}
    )
    # ``platform-stack`` names the stack reference, answered from the platform stack's run.
    return {key: f"placeholder-{key}" for key in optional if key != "platform-stack"}


def _reference_name(folder: Path, platform: Mapping[str, Any]) -> str:
    """The stack name the pipeline stack beside ``platform`` reads it by."""
    pipeline = folder / "pipeline" / "stack.json"
    if pipeline.is_file():
        return str(json.loads(pipeline.read_text(encoding="utf-8")).get("platform_stack", ""))
    return str(platform.get("project", ""))


def _run_projects(folder: Path) -> list[tuple[str, list[Resource]]]:
    """Each project of an ``mlcompile infra`` folder run under mocks, platform stack first (its
    exports answer the pipeline stack's StackReference), as (stack kind, what it registered)."""
    ran: list[tuple[str, list[Resource]]] = []
    references: dict[str, Mapping[str, Any]] = {}
    for project in projects(folder):
        info = json.loads((project / "stack.json").read_text(encoding="utf-8"))
        kind = str(info.get("kind", "pipeline"))
        exported: dict[str, Any] = {}
        ran.append((kind, run(project, _placeholders(project), references, exported)))
        if kind == "platform":
            references[_reference_name(folder, info)] = exported
    return ran


def registered(folder: Path) -> dict[str, Any]:
    """What the programs of an ``mlcompile infra`` folder register under mocks, the way a
    reviewer reads a plan: by stack kind, type and logical name, each resource's inputs and the
    options that decide how it is replaced or deleted. Config is the placeholders above, never
    the stack's own settings, so no secret value can appear."""
    return {
        f"{kind} {resource.type} {resource.name}": {
            "inputs": resource.inputs,
            "options": {k: v for k, v in sorted(resource.options.items()) if v},
        }
        for kind, resources in _run_projects(folder)
        for resource in resources
        if resource.type != "pulumi:pulumi:Stack"
    }


def main(folders: list[str]) -> int:
    from mlcompile.infra import policy

    failed = 0
    for name in folders:
        folder = Path(name)
        try:
            resources = [r for _, found in _run_projects(folder) for r in found]
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
    if sys.argv[1:2] == ["--resources"]:  # for `mlcompile diff`: one folder, as JSON
        print(json.dumps(registered(Path(sys.argv[2])), sort_keys=True, default=str))
        sys.exit(0)
    sys.exit(main(sys.argv[1:]))
