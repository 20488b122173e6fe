"""Platform rules for monitors that only a platform's own service imposes (MLC450)."""

from __future__ import annotations

from mlcompile.errors import Diagnostic
from mlcompile.ir import nodes as ir
from mlcompile.monitor.declaration import monitored_endpoints


def _hourly_or_daily(cron: str) -> bool:
    minute, hour, day, month, weekday = cron.split()
    every = hour == "*" or (hour.startswith("*/") and hour[2:].isdigit())
    return minute == "0" and (day, month, weekday) == ("*", "*", "*") and (every or hour.isdigit())


def schedule_refusals(platform: str, pipeline: ir.Pipeline) -> list[Diagnostic]:
    """SageMaker monitoring schedules and Vertex monitoring intervals run on whole hours only:
    hourly, every N hours, or daily at an hour."""
    out = []
    for found in monitored_endpoints(pipeline):
        cron = found.monitor.schedule
        if not _hourly_or_daily(cron):
            out.append(
                Diagnostic(
                    "MLC450",
                    f"{platform} monitors endpoint {found.endpoint!r} hourly, every N hours or"
                    f" daily; the monitor's schedule {cron!r} is none of them",
                    found.monitor.location.source(),
                    'use schedule="0 * * * *" (hourly), "0 */6 * * *" or "0 4 * * *" (daily)',
                    platform=platform,
                    step=found.task.name,
                )
            )
    return out
