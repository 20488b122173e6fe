"""What the generated pipeline stacks pass to ``mlcompile.infra.drift``, per monitored endpoint,
and where the compiled pipeline publishes each monitor's baseline for them.

The generator renders these as literals into the program, so the program stays typed and short;
every physical name comes from the one naming function, as the rest of the stack's do. The
compiled pipeline (its ``publish_baseline`` step) and the stack meet at :func:`baseline_target`.
"""

from __future__ import annotations

import re
from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.monitor.declaration import monitored_endpoints
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile

#: The KServe logger sink's port inside the cluster (its Service listens on 80).
SINK_PORT = 8080


def sink_name(endpoint: str) -> str:
    """The Deployment and Service receiving an InferenceService's logged requests."""
    return f"{endpoint}-requests"[:52].rstrip("-")


def sink_url(profile: Profile, endpoint: str) -> str:
    """Where KServe's logger posts the requests of ``endpoint`` (its physical name)."""
    namespace = resource_name(profile, "namespace")
    return f"http://{sink_name(endpoint)}.{namespace}.svc.cluster.local"


def baseline_object(endpoint: str) -> str:
    """The baseline's object in the artifact bucket (Vertex), by physical endpoint name."""
    return f"monitoring/{endpoint}/baseline.csv"


def baseline_target(profile: Profile, endpoint: str) -> str:
    """Where the pipeline's ``publish_baseline`` step puts the baseline of declared endpoint
    ``endpoint``: the artifact bucket on Vertex, the request sink on Kubeflow."""
    physical = resource_name(profile, "endpoint", endpoint)
    if profile.platform == "vertex":
        bucket = resource_name(profile, "artifact-store")
        return f"gs://{bucket}/{baseline_object(physical)}"
    if profile.platform == "kubeflow":
        return f"{sink_url(profile, physical)}/baseline"
    raise ValueError(f"{profile.platform} writes its own baseline (Model Monitor's)")


def _dataset_id(text: str) -> str:
    """A BigQuery dataset id: letters, digits and underscores, at most 1024."""
    return re.sub(r"[^A-Za-z0-9_]", "_", text)[:1024]


def window_hours(cron: str) -> int:
    """How many hours of requests one check reads: the time between two runs of an hourly or
    every-N-hours schedule, else a day."""
    minute, hour, *_rest = cron.split()
    if minute.isdigit() and hour == "*":
        return 1
    if minute.isdigit() and hour.startswith("*/") and hour[2:].isdigit():
        return int(hour[2:])
    return 24


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
            "dataset": _dataset_id(f"{base}_requests"),
            "cron_job": f"{endpoint}-drift"[:52].rstrip("-"),
            "sink": sink_name(endpoint),
        }
        entry: dict[str, Any] = {
            "endpoint": found.endpoint,
            "drift": drift,
            "names": names,
            "kinds": found.kinds(),
            "spec": {**found.spec(), "endpoint": endpoint},
            "alarms": [base] if profile.platform == "sagemaker" else [],
            "window_hours": window_hours(found.monitor.schedule),
        }
        if profile.platform == "kubeflow":
            entry["sink_url"] = sink_url(profile, endpoint)
        out.append(entry)
    return out
