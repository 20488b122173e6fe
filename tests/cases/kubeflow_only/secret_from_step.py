"""A secret whose name an earlier step decides, and one key of it (Kubernetes secrets only: the
driver resolves the name when the step starts; other platforms refuse it with the reason)."""

import os

from mlcompile import Secret, pipeline, step


@step
def pick_database(region: str) -> str:
    """The secret holding this region's database credentials."""
    return f"db-{region}"


@step
def connect(attempt: int) -> int:
    """Only the password key of the secret reaches the step."""
    return len(os.environ["DB_PASSWORD"]) + attempt


@pipeline
def secret_from_step(region: str = "eu") -> int:
    """Pick the secret at run time, then read one key of it."""
    name = pick_database(region=region).output
    secret = Secret(name, env="DB_PASSWORD", key="password")
    return connect(attempt=0).with_options(secrets=[secret]).output
