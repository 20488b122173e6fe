"""A container step with a secret: only the step runtime reads Secrets Manager."""

from mlcompile import Command, Secret, container_step, pipeline


@container_step(image="public.ecr.aws/docker/library/alpine:3.20")
def ping(host: str) -> Command:
    """Ping a host."""
    return Command(command=["ping", "-c", "1", host])


@pipeline
def container_secret(host: str = "example.com") -> None:
    """One container step with a secret."""
    ping(host=host).with_options(secrets=[Secret("token", env="TOKEN")])  # expect: MLC401
