"""Local stand-ins for the entrypoints of training images this machine cannot run.

A training container step may keep its image's own entrypoint (a SageMaker built-in algorithm,
a bring-your-own training image): the compiled spec names only the image, and the platform runs
whatever the image's ``ENTRYPOINT`` is. Locally no image runs, so the embedded runner and the
emulators take a local command in its place from the environment variable
``MLCOMPILE_LOCAL_ENTRYPOINTS``, a JSON object from image to command (a list of arguments, or
one string split as a shell would)::

    MLCOMPILE_LOCAL_ENTRYPOINTS='{"<account>.dkr.ecr.<region>.amazonaws.com/trainer:1":
                                  ["python3", "train.py"]}'

An image is looked up as written, then without its tag or digest. The command gets the
arguments the platform would give the image (on SageMaker, ``train`` when the job has no
ContainerArguments, as ``docker run IMAGE train``); the emulators map ``/opt/ml`` in it onto the
job's folder as they do in the job's own arguments. Compiled output never uses it.
"""

from __future__ import annotations

import json
import os
import shlex

VARIABLE = "MLCOMPILE_LOCAL_ENTRYPOINTS"


class NoStandIn(LookupError):
    """No local command stands in for the image; the message says how to give one."""


def _repository(image: str) -> str:
    """The image without ``@sha256:...`` or ``:tag`` (a registry's ``host:port`` is kept)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


def stand_in(image: str, step: str) -> list[str]:
    """The local command standing in for ``image``'s entrypoint."""
    text = os.environ.get(VARIABLE, "")
    try:
        table = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise NoStandIn(f"{VARIABLE} is not a JSON object: {exc}") from None
    if not isinstance(table, dict):
        raise NoStandIn(f"{VARIABLE} is not a JSON object of image to command")
    command = table.get(image)
    if command is None:
        wanted = _repository(image)
        command = next((c for k, c in table.items() if _repository(str(k)) == wanted), None)
    if command is None:
        raise NoStandIn(
            f"step {step!r} runs image {image!r} with its own entrypoint, which cannot run on"
            f" this machine: set {VARIABLE} to a JSON object mapping the image to a local"
            " command that stands in for it, or run the step on its platform"
        )
    if isinstance(command, str):
        return shlex.split(command)
    if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
        return list(command)
    raise NoStandIn(f"{VARIABLE}[{image!r}] is not a command (a string or a list of strings)")
