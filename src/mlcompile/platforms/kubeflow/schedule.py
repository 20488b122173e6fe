"""The recurring-run spec written beside the pipeline: when it runs, and which pipeline.

Kubeflow's scheduler reads six-field cron expressions (seconds first) in UTC; ``recurring_run``
is the body of the v2beta1 RecurringRun API, completed with the pipeline version at deploy time.
"""

from __future__ import annotations

from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile


def recurring_run(
    pipeline: ir.Pipeline, profile: Profile, pipeline_root: str | None, ir_hash: str
) -> dict[str, Any]:
    assert pipeline.schedule is not None
    runtime: dict[str, Any] = {}
    if pipeline_root:
        runtime["pipeline_root"] = pipeline_root
    body: dict[str, Any] = {
        "display_name": resource_name(profile, "schedule", pipeline.name),
        "description": f"Runs {pipeline.name} on cron {pipeline.schedule.cron!r} (UTC)",
        "mode": "ENABLE",
        "max_concurrency": "1",
        "no_catchup": True,
        "trigger": {"cron_schedule": {"cron": f"0 {pipeline.schedule.cron}"}},
    }
    if runtime:
        body["runtime_config"] = runtime
    return {
        "pipeline": {
            "name": resource_name(profile, "pipeline", pipeline.name),
            "package": "pipeline.yaml",
            "ir_hash": ir_hash,
        },
        "namespace": resource_name(profile, "namespace"),
        "recurring_run": body,
    }
