"""Step options every platform maps: GPU, env, timeout, cache off, retry backoff, ordering."""

from mlcompile import Resources, Retry, pipeline, step


@step(
    resources=Resources(cpu="500m", memory="512Mi", gpu=1, gpu_type="nvidia-tesla-t4"),
    env={"MODE": "fast", "LEVEL": "2"},
    timeout="1h30m",
    retries=Retry(count=3, backoff="30s", factor=3, max_backoff="10m"),
)
def warm_up(level: int = 1) -> int:
    """Return the level."""
    return level


@step(
    cache=False,
    image="public.ecr.aws/docker/library/python:3.12-slim",
    platform_options={"kubeflow": {"node_selector": {"pool": "cpu"}}},
)
def report(note: str) -> str:
    """Echo the note."""
    return note


@pipeline
def step_options(level: int = 2, note: str = "done") -> None:
    """One step with every resource option, one ordered after it."""
    first = warm_up(level=level)
    report(note=note).after(first)
