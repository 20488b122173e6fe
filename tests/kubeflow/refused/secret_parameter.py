"""A secret named by a parameter, with a secret store the step must read itself."""

from mlcompile import Secret, pipeline, step


@step
def fetch(n: int) -> int:
    """Reads TOKEN."""
    return n


@pipeline
def secret_parameter(token_name: str = "api-token", n: int = 1) -> None:
    """The secret's name is chosen per run."""
    fetch(n=n).with_options(secrets=[Secret(name=token_name, env="TOKEN")])
