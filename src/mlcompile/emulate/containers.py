"""Run an emulated job inside its step's image, when this machine has a container runtime.

A platform runs every step in the image the compiled file names; on the host, a job runs with
this machine's interpreter and packages, which can hide an image that lacks a package or a
Python the step side cannot run on. So, where the image is here, the job runs in it, the way the
platform starts it: the compiled command replaces the image's entrypoint (Kubernetes `command`,
SageMaker's `ContainerEntrypoint`), or the image's own entrypoint runs with the arguments.

``--containers`` says when: ``auto`` (the default) runs a job in its image when podman or docker
is installed and the image is in its local storage or in a registry on this machine's loopback
(what ``mlcompile images`` pushes to in a test), and on the host otherwise; ``require`` fails a
job whose image cannot be run here, naming it; ``never`` always runs on the host.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass, field

MODES = ("auto", "require", "never")

#: Registries this machine serves itself, pulled from without TLS, like ``mlcompile images``.
_LOOPBACK = ("127.0.0.1", "localhost")


class ImageUnavailable(Exception):
    """``--containers require`` and the job's image cannot be run on this machine."""


@dataclass(frozen=True)
class Mount:
    host: str
    container: str
    read_only: bool = False


@dataclass(frozen=True)
class Container:
    """How one job runs in its image: what it sees mounted, its environment and its command.

    ``entrypoint`` replaces the image's entrypoint; empty, the image's own runs with ``args``.
    """

    image: str
    entrypoint: tuple[str, ...]
    args: tuple[str, ...]
    env: dict[str, str]
    mounts: tuple[Mount, ...]
    workdir: str


@dataclass
class Containers:
    """The container runtime of one emulated run and the images it has looked up."""

    mode: str = "auto"
    program: str | None = None
    _found: dict[str, str | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.mode != "never" and self.program is None:
            self.program = shutil.which("podman") or shutil.which("docker")

    def usable(self, image: str) -> bool:
        """Whether a job with this image runs in it; under ``require``, raise when it cannot."""
        if self.mode == "never" or not image:
            return False
        with self._lock:  # one lookup (or pull) per image and run, whatever the parallelism
            if image not in self._found:
                self._found[image] = self._why_not(image)
            reason = self._found[image]
        if reason is not None and self.mode == "require":
            raise ImageUnavailable(f"its image {image!r} cannot run here: {reason}")
        return reason is None

    def _why_not(self, image: str) -> str | None:
        if self.program is None:
            return "no container runtime (podman or docker) is installed"
        if _run([self.program, "image", "inspect", "--format", "{{.Id}}", image]):
            return None
        if _registry_host(image) in _LOOPBACK:
            if _run([self.program, "pull", *self._tls(image), "--quiet", image], timeout=600):
                return None
            return "it could not be pulled from this machine's registry"
        return (
            "it is not in the container runtime's local storage; pull it, or build it with"
            " `mlcompile images`"
        )

    def _tls(self, image: str) -> list[str]:
        loopback = _registry_host(image) in _LOOPBACK
        return ["--tls-verify=false"] if loopback and self._is_podman else []

    @property
    def _is_podman(self) -> bool:
        return self.program is not None and "podman" in self.program.rsplit("/", 1)[-1]

    def argv(self, name: str, job: Container) -> list[str]:
        """The command that runs ``job`` as container ``name``, removed when it ends.

        Host networking: a job reaches what the run serves on loopback (the S3 stand-in), as a
        platform's job reaches the cloud's endpoints.
        """
        assert self.program is not None
        argv = [self.program, "run", "--rm", "--name", name, "--network", "host"]
        argv += ["--workdir", job.workdir, *self._tls(job.image)]
        for mount in job.mounts:
            argv += [
                "--volume",
                f"{mount.host}:{mount.container}" + (":ro" if mount.read_only else ""),
            ]
        for key, value in sorted(job.env.items()):
            argv += ["--env", f"{key}={value}"]
        rest = list(job.args)
        if job.entrypoint:
            # One program as the entrypoint, the rest as arguments: docker's --entrypoint takes
            # a single string, and both runtimes then run exactly the compiled command.
            argv += ["--entrypoint", job.entrypoint[0]]
            rest = [*job.entrypoint[1:], *rest]
        return [*argv, job.image, *rest]

    def remove(self, name: str) -> None:
        """Stop a container whose client was killed (an interrupt or a timeout)."""
        if self.program is not None:
            _run([self.program, "rm", "--force", "--ignore" if self._is_podman else "", name])


def _registry_host(image: str) -> str:
    """The registry's host name, without its port; empty for an image of the default registry."""
    first, slash, _ = image.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        return ""
    return first.rsplit(":", 1)[0]


def _run(argv: list[str], timeout: float = 60) -> bool:
    try:
        done = subprocess.run(
            [a for a in argv if a], capture_output=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
