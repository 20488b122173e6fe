"""A container step with a secret: its own command runs, so nothing could read Secret Manager."""

from mlcompile import Command, Secret, container_step, pipeline


@container_step(image="alpine:3", secrets=[Secret("api-token", env="API_TOKEN")])
def call() -> Command:
    """Would need the token in its environment."""
    return Command(command=["sh", "-c", 'test -n "$API_TOKEN"'])


@pipeline
def container_secret() -> None:
    """One container step with a secret."""
    call()
