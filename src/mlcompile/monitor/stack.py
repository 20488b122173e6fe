"""What the generated pipeline stacks pass to ``mlcompile.infra.drift``, per monitored endpoint.

The generator renders these as literals into the program, so the program stays typed and short;
every physical name comes from the one naming function, as the rest of the stack's do.
"""

from __future__ import annotations

from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.monitor.declaration import monitored_endpoints
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile


def monitor_context(pipeline: ir.Pipeline, profile: Profile) -> list[dict[str, Any]]:
    """One entry per monitored endpoint: the ``drift`` input, ``names``, ``kinds``, ``spec``,
    and ``alarms`` (alarm names the stack's alert topic must accept)."""
    out = []
    for found in monitored_endpoints(pipeline):
        endpoint = resource_name(profile, "endpoint", found.endpoint)
        base = resource_name(profile, "pipeline", f"{pipeline.name}-{found.endpoint}-drift")
        drift = {**found.drift(), "endpoint": endpoint}
        names = {
            "job": base,
            "schedule": resource_name(
                profile, "schedule", f"{pipeline.name}-{found.endpoint}-drift"
            ),
            "role": resource_name(profile, "pipeline-identity", f"{found.endpoint}-monitor"),
            "alarm": base,
            "rule": base,
            "trigger_role": resource_name(profile, "pipeline-identity", f"{found.endpoint}-drift"),
            "topic": base,
            "trigger_account": resource_name(
                profile, "pipeline-identity", f"{found.endpoint}-drift"
            ),
            "workflow": base,
            "trigger": base,
            "cron_job": f"{found.endpoint}-drift"[:52],
        }
        out.append(
            {
                "endpoint": found.endpoint,
                "drift": drift,
                "names": names,
                "kinds": found.kinds(),
                "spec": {**found.spec(), "endpoint": endpoint},
                "alarms": [base] if profile.platform == "sagemaker" else [],
            }
        )
    return out
