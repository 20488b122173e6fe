"""Waiting for the run a deploy started, so CI's smoke run reports how it ended, not only that
it began.

Each platform is polled for the run's state until it is final (or the time is up):
SageMaker's DescribePipelineExecution, Kubeflow's ``get_run`` and Vertex's ``GetPipelineJob``.
The state comes back in one vocabulary: ``succeeded``, ``failed``, ``stopped`` or ``timed out``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mlcompile.errors import DeployError
from mlcompile.profiles import Profile

#: Each platform's final states, in the shared vocabulary.
_FINAL = {
    "sagemaker": {"Succeeded": "succeeded", "Failed": "failed", "Stopped": "stopped"},
    "kubeflow": {
        "SUCCEEDED": "succeeded",
        "FAILED": "failed",
        "CANCELED": "stopped",
        "SKIPPED": "succeeded",
    },
    "vertex": {
        "PIPELINE_STATE_SUCCEEDED": "succeeded",
        "PIPELINE_STATE_FAILED": "failed",
        "PIPELINE_STATE_CANCELLED": "stopped",
    },
}


def wait_for_run(
    deployment: dict[str, Any],
    profile: Profile,
    *,
    timeout: float,
    poll: float = 15.0,
    endpoint_url: str | None = None,
    client: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """The final state of the run ``deployment`` (what ``deploy_build`` returned) started."""
    platform = str(deployment["platform"])
    read = _reader(platform, deployment, profile, endpoint_url, client)
    deadline = clock() + timeout
    while True:
        state = read()
        if state in _FINAL[platform]:
            return _FINAL[platform][state]
        if clock() >= deadline:
            return "timed out"
        sleep(poll)


def _reader(
    platform: str,
    deployment: dict[str, Any],
    profile: Profile,
    endpoint_url: str | None,
    client: Any,
) -> Callable[[], str]:
    if platform == "sagemaker":
        arn = deployment.get("execution_arn")
        if not arn:
            raise DeployError("deploy started no run to wait for (--no-start)")
        if client is None:
            import boto3

            client = boto3.Session().client("sagemaker", endpoint_url=endpoint_url)
        return lambda: str(
            client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
        )
    if platform == "kubeflow":
        run_id = deployment.get("run_id")
        if not run_id:
            raise DeployError("deploy started no run to wait for (--no-start)")
        if client is None:
            from mlcompile.deploy.kubeflow import _client

            client = _client(profile)
        return lambda: str(client.get_run(run_id).state)
    job = deployment.get("job_name")
    if not job:
        raise DeployError("deploy started no run to wait for (--no-start)")
    if client is None:
        from mlcompile.deploy.vertex import _jobs

        client = _jobs(profile.region)
    return lambda: _vertex_state(client.get_pipeline_job(name=job).state)


def _vertex_state(state: Any) -> str:
    """The enum's name (``PIPELINE_STATE_SUCCEEDED``), from the proto-plus enum or its text."""
    return str(getattr(state, "name", state))
