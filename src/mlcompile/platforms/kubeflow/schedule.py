"""The recurring-run spec written beside the pipeline: when it runs, and which pipeline.

Kubeflow's scheduler reads six-field cron expressions (seconds first) in UTC, and a recurring run
has no time-zone field: a schedule in another zone is written as the UTC cron that fires at the
same instants at the zone's standard offset (:mod:`.utc_cron`). ``recurring_run`` is the body of
the v2beta1 RecurringRun API, completed with the pipeline version at deploy time.
"""

from __future__ import annotations

from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.naming import resource_name
from mlcompile.platforms.kubeflow.utc_cron import UtcCron, describe_offset, to_utc
from mlcompile.profiles import Profile


def utc_schedule(schedule: ir.Schedule) -> UtcCron:
    """The schedule's cron in UTC (raises :class:`.utc_cron.NotExact` when there is none)."""
    return to_utc(schedule.cron, schedule.timezone)


def recurring_run(
    pipeline: ir.Pipeline, profile: Profile, pipeline_root: str | None, ir_hash: str
) -> dict[str, Any]:
    assert pipeline.schedule is not None
    utc = utc_schedule(pipeline.schedule)
    if pipeline.schedule.timezone == "UTC":
        description = f"Runs {pipeline.name} on cron {utc.cron!r} (UTC)"
    else:
        description = (
            f"Runs {pipeline.name} on cron {utc.source!r} in {utc.zone} "
            f"({describe_offset(utc.standard_offset)}), which is {utc.cron!r} in UTC"
        )
    runtime: dict[str, Any] = {}
    if pipeline_root:
        runtime["pipeline_root"] = pipeline_root
    body: dict[str, Any] = {
        "display_name": resource_name(profile, "schedule", pipeline.name),
        "description": description,
        "mode": "ENABLE",
        "max_concurrency": "1",
        "no_catchup": True,
        "trigger": {"cron_schedule": {"cron": f"0 {utc.cron}"}},
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
