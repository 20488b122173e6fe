"""Provisioning a generated infra project with Pulumi's Automation API.

The Automation API drives the ``pulumi`` CLI; where it is not installed this says so plainly
instead of failing deep inside the SDK.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mlcompile.errors import DeployError


@dataclass(frozen=True)
class StackResult:
    stack: str
    summary: dict[str, int]
    outputs: dict[str, object]


def up(infra_dir: Path, environment: str, *, preview: bool = False) -> StackResult:
    """Create or select the environment's stack in ``infra_dir`` and bring it up (or preview)."""
    if shutil.which("pulumi") is None:
        raise DeployError(
            "the Pulumi CLI is not installed, so the stack cannot be provisioned. Install it "
            "(https://www.pulumi.com/docs/install/), log in with `pulumi login`, and deploy again; "
            f"or run `pulumi up` yourself in {infra_dir}"
        )
    from pulumi import automation

    try:
        stack = automation.create_or_select_stack(stack_name=environment, work_dir=str(infra_dir))
        if preview:
            changes = stack.preview(on_output=print).change_summary
            return StackResult(environment, {str(k): int(v) for k, v in changes.items()}, {})
        result = stack.up(on_output=print)
    except automation.errors.CommandError as exc:
        raise DeployError(f"pulumi failed for stack {environment!r}: {exc}") from None
    summary = result.summary.resource_changes or {}
    outputs = {k: v.value for k, v in result.outputs.items() if not v.secret}
    return StackResult(environment, {str(k): int(v) for k, v in summary.items()}, outputs)
