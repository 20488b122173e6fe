"""A secret on a profile whose backend is Kubernetes Secrets, which Vertex AI does not run."""

from mlcompile import Secret, pipeline, step


@step(secrets=[Secret("api-token", env="API_TOKEN")])
def call(n: int) -> int:
    """Reads a token."""
    return n


@pipeline
def kubernetes_secret(n: int = 1) -> None:
    """One step with a secret."""
    call(n=n)
