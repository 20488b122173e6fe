"""Running generated Pulumi programs under mocks, in this process, and recording what they create."""

from __future__ import annotations

import json
import logging
import os
import runpy
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from mlcompile.infra.policy import Resource
from mlcompile.runtime.secrets import local_variable


@dataclass
class Recorder(Mocks):
    """Answers every resource and call, and keeps each registered resource with its inputs."""

    account: str
    region: str
    #: Outputs of the stacks a program references, by fully qualified stack name.
    references: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Resource options by (type, logical name), as the program passed them.
    options: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)
    #: Outputs the program read from a StackReference, by stack name.
    reads: dict[str, set[str]] = field(default_factory=dict)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        options = self.options.get((args.typ, args.name), {})
        self.resources.append(
            Resource(
                args.typ,
                args.name,
                dict(args.inputs),
                args.provider or "",
                options,
                custom=bool(args.custom),
            )
        )
        state = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            stack = str(state["name"])
            outputs = dict(self.references.get(stack, {}))
            return stack, {"name": stack, "outputs": outputs, "secretOutputNames": []}
        ident = f"{args.name}-id"
        if args.typ.startswith("aws:"):
            ident = str(state.get("bucket") or state.get("name") or args.name)
            state.setdefault("arn", _aws_arn(args.typ, ident, self.account, self.region))
            if args.typ == "aws:kms/key:Key":
                state["keyId"] = f"key-{args.name}"
            if args.typ == "aws:ecr/repository:Repository":
                state["repositoryUrl"] = (
                    f"{self.account}.dkr.ecr.{self.region}.amazonaws.com/{ident}"
                )
            if args.typ == "aws:sagemaker/pipeline:Pipeline":
                state["arn"] = _aws_arn(args.typ, state["pipelineName"], self.account, self.region)
        if args.typ.startswith("gcp:"):
            if args.typ == "gcp:serviceaccount/account:Account":
                state["email"] = f"{state['accountId']}@{self.account}.iam.gserviceaccount.com"
                state["member"] = f"serviceAccount:{state['email']}"
            if args.typ == "gcp:projects/serviceIdentity:ServiceIdentity":
                state["email"] = (
                    f"service-1@gcp-sa-{state['service'].split('.')[0]}.iam.gserviceaccount.com"
                )
                state["member"] = f"serviceAccount:{state['email']}"
            state.setdefault("name", args.name)
            ident = f"projects/{self.account}/{args.name}"
        if args.typ.startswith("azure-native:"):
            ident = f"/subscriptions/{self.account}/resourceGroups/rg/providers/x/{args.name}"
            # Azure returns a resource's name under ``name``, whatever input set it.
            for key in ("vaultName", "accountName", "registryName", "resourceGroupName"):
                if key in state:
                    state.setdefault("name", state[key])
            # Identity inputs are lists but outputs are maps; the outputs are never read.
            if "identity" in state:
                state["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {}}
            if args.typ.startswith("azure-native:managedidentity"):
                state["principalId"] = "00000000-0000-0000-0000-00000000000a"
                state["clientId"] = "00000000-0000-0000-0000-00000000000b"
            if args.typ.startswith("azure-native:keyvault:Vault"):
                state["properties"] = {
                    **state.get("properties", {}),
                    "vaultUri": "https://v.vault.azure.net/",
                }
            if args.typ.startswith("azure-native:keyvault:Key"):
                state["keyUriWithVersion"] = "https://v.vault.azure.net/keys/k/1"
                state["keyUri"] = "https://v.vault.azure.net/keys/k"
        return ident, state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
            email = "service-1@gs-project-accounts.iam.gserviceaccount.com"
            return {"emailAddress": email, "member": f"serviceAccount:{email}"}, []
        if args.token == "gcp:bigquery/getDefaultServiceAccount:getDefaultServiceAccount":
            email = "bq-1@bigquery-encryption.iam.gserviceaccount.com"
            return {"email": email, "member": f"serviceAccount:{email}"}, []
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "tenantId": "00000000-0000-0000-0000-0000000000aa",
                "subscriptionId": self.account,
                "clientId": "c",
                "objectId": "00000000-0000-0000-0000-0000000000bb",
            }, []
        return {}, []


def _aws_arn(token: str, name: str, account: str, region: str) -> str:
    """An ARN shaped like the real one, so tests can match the names specs refer to."""
    service, kind = token.split(":")[1].split("/")
    if token == "aws:s3/bucket:Bucket":
        return f"arn:aws:s3:::{name}"
    if service == "iam":
        return f"arn:aws:iam::{account}:{kind}/{name}"
    kind = {
        "modelPackageGroup": "model-package-group",
        "endpointConfiguration": "endpoint-config",
    }.get(kind, kind)
    return f"arn:aws:{service}:{region}:{account}:{kind.lower()}/{name}"


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


def run_program(
    folder: Path,
    *,
    project: str,
    stack: str,
    account: str,
    region: str,
    config: Mapping[str, str] = {},
    references: Mapping[str, Mapping[str, Any]] = {},
) -> Recorder:
    """Run the program in ``folder`` under mocks with ``config``, as Pulumi does (the folder
    first on the import path, for the project's own components); the recorder holds what it
    made, what it exported and what it read from other stacks."""
    recorder = Recorder(account, region, references)
    logger = logging.getLogger(f"mocks.{project}.{stack}")
    logger.propagate = False
    logger.handlers = [_Collect(recorder.warnings)]
    pulumi.runtime.set_mocks(recorder, project=project, stack=stack, preview=False, logger=logger)
    pulumi.runtime.set_all_config({f"{project}:{k}": v for k, v in config.items()})
    settings = pulumi.runtime.settings.SETTINGS
    settings.rpc_manager.clear()
    settings.outputs.clear()

    def record_options(args: pulumi.ResourceTransformationArgs) -> None:
        opts = args.opts
        recorder.options[args.type_, args.name] = {
            "protect": opts.protect,
            "retain_on_delete": opts.retain_on_delete,
            "delete_before_replace": opts.delete_before_replace,
        }
        return None

    def export(name: str, value: Any) -> None:
        recorder.exports[name] = value

    original_require = pulumi.StackReference.require_output
    original_export = pulumi.export

    def require_output(self: pulumi.StackReference, name: pulumi.Input[str]) -> pulumi.Output[Any]:
        recorder.reads.setdefault(str(self._name), set()).add(str(name))
        return original_require(self, name)

    # Each project carries its own copy of the components: import this one's.
    for module in [m for m in sys.modules if m.split(".")[0] == "mlcompile_infra"]:
        del sys.modules[module]

    def program() -> None:
        pulumi.runtime.register_stack_transformation(record_options)
        runpy.run_path(str(folder), run_name="__main__")

    pulumi.StackReference.require_output = require_output  # type: ignore[method-assign]
    pulumi.export = export
    try:
        _sync_await(run_pulumi_func(program))
        recorder.exports = {k: _resolve(v) for k, v in recorder.exports.items()}
    finally:
        pulumi.StackReference.require_output = original_require  # type: ignore[method-assign]
        pulumi.export = original_export
    return recorder


def _resolve(value: Any) -> Any:
    if isinstance(value, pulumi.Output):
        return _sync_await(value.future())
    return value


#: Values planted where a careless program could pick them up; no stack input may contain them.
PLANTED_SECRETS = {
    "churn-warehouse-token": "pl4nted-churn-value-91d2",
    "warehouse-token": "pl4nted-retrain-value-77ab",
}


@dataclass
class Stack:
    """A generated project and what its program registered under mocks."""

    files: dict[str, bytes]
    resources: list[Resource]
    warnings: list[str]
    exports: dict[str, Any] = field(default_factory=dict)
    reads: dict[str, set[str]] = field(default_factory=dict)
    platform: Stack | None = None

    @property
    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.files["stack.json"])
        return data

    @property
    def needs(self) -> dict[str, Any]:
        data: dict[str, Any] = self.info["needs"]
        return data

    def of_type(self, token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == token]


def stack_config(files: Mapping[str, bytes]) -> dict[str, str]:
    """Values for every optional config key, as an operator sets them once models exist."""
    optional = json.loads(files["stack.json"])["optional_config"]
    values = {}
    for key in optional:
        if key.endswith("-model-package"):
            values[key] = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/group/1"
        elif key.endswith("-model-uri"):
            values[key] = "s3://models/churn/1"
        elif key == "oidc-issuer":
            values[key] = "oidc.example.com/id/CLUSTER"
        elif key == "kubeconfig":
            values[key] = "/home/ops/.kube/config"
        elif key == "kube-context":
            values[key] = "ml-cluster"
        elif key == "workload-pool":
            values[key] = "pool.svc.id.goog"
    return values


def _split(files: Mapping[str, bytes], kind: str) -> dict[str, bytes]:
    prefix = f"{kind}/"
    return {k[len(prefix) :]: v for k, v in files.items() if k.startswith(prefix)}


def run_project(
    files: Mapping[str, bytes],
    folder: Path,
    profile: Any,
    *,
    configured: bool = True,
    references: Mapping[str, Mapping[str, Any]] = {},
) -> Stack:
    """Write one project into ``folder`` and run its program under mocks."""
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    info = json.loads(files["stack.json"])
    recorder = run_program(
        folder,
        project=info["project"],
        stack=profile.environment,
        account=profile.account,
        region=profile.region,
        config=stack_config(files) if configured else {},
        references=references,
    )
    return Stack(
        dict(files),
        recorder.resources,
        recorder.warnings,
        recorder.exports,
        recorder.reads,
    )


def build_stack(
    pipeline: Any,
    profile: Any,
    folder: Path,
    *,
    configured: bool = True,
    siblings: Any = (),
) -> Stack:
    """Generate both projects into ``folder`` and run them under mocks: the platform stack
    first, whose exports the pipeline stack's StackReference then reads."""
    from mlcompile.infra.generator import generate

    files = generate(pipeline, profile, siblings)
    for name, value in PLANTED_SECRETS.items():
        os.environ[local_variable(name)] = value
    platform = run_project(_split(files, "platform"), folder / "platform", profile)
    pipeline_files = _split(files, "pipeline")
    reference = json.loads(pipeline_files["stack.json"])["platform_stack"]
    stack = run_project(
        pipeline_files,
        folder / "pipeline",
        profile,
        configured=configured,
        references={reference: platform.exports},
    )
    stack.platform = platform
    return stack
