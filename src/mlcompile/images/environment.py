"""Which environment each function step needs: the image it starts from and its packages.

Steps with the same base image and the same packages share one environment, so one image.
Steps inside nested pipelines are found too; their path (``outer/inner``) names them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import content_hash
from mlcompile.ir.walk import scoped_tasks
from mlcompile.profiles import Profile


@dataclass(frozen=True)
class Environment:
    base: str
    packages: tuple[str, ...]
    python_version: str

    @property
    def key(self) -> str:
        """Stable identity of the environment (not of the built image: that is the context's)."""
        return content_hash(
            {"base": self.base, "packages": list(self.packages), "python": self.python_version}
        )


@dataclass(frozen=True)
class StepNeed:
    path: str  # the step's name, prefixed by its enclosing pipeline tasks
    task: ir.Task
    component: ir.Component
    environment: Environment


#: The client library the step side needs for the stores it reads itself (the others put values
#: in the environment before the step starts).
_SECRET_CLIENTS = {
    "aws-secrets-manager": "boto3",
    "gcp-secret-manager": "google-cloud-secret-manager",
}


def environment_of(options: ir.StepOptions, profile: Profile) -> Environment:
    declared = {p.strip() for p in options.packages if p.strip()}
    client = _SECRET_CLIENTS.get(profile.effective_secrets_backend)
    if options.secrets and client:
        declared.add(client)  # the step side reads the secret store itself, with this client
    packages = tuple(sorted(declared))
    image = options.image if isinstance(options.image, str) else None  # a Python step's
    return Environment(image or profile.images.base, packages, profile.images.python_version)


def step_needs(pipeline: ir.Pipeline, profile: Profile, prefix: str = "") -> Iterator[StepNeed]:
    """Every function step and its environment, in the order the pipeline declares them."""
    for scoped in scoped_tasks(pipeline):
        task = scoped.task
        component = pipeline.components[task.component]
        path = f"{prefix}{task.name}"
        if component.function is not None:
            yield StepNeed(path, task, component, environment_of(task.options, profile))
        elif component.pipeline is not None:
            yield from step_needs(component.pipeline, profile, f"{path}/")


def environments(pipeline: ir.Pipeline, profile: Profile) -> dict[str, Environment]:
    """Distinct environments by key, in first-use order."""
    found: dict[str, Environment] = {}
    for need in step_needs(pipeline, profile):
        found.setdefault(need.environment.key, need.environment)
    return found
