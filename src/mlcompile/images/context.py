"""The build context of one environment: a Dockerfile, the requirements lock, the step side.

Everything in it is derived from the environment and the mlcompile step side, so the same
environment gives byte-identical contexts; the image tag is the sha256 over the context's
files (path and content), and a registry that already has that tag has the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mlcompile.build import deterministic_tar_gz
from mlcompile.errors import SourceLocation
from mlcompile.images.environment import Environment
from mlcompile.images.lock import resolve
from mlcompile.ir.canonical import content_hash, sha256_hex

#: Where the step side and the lock go inside the image.
IMAGE_ROOT = "/opt/mlcompile"


@dataclass(frozen=True)
class BuildContext:
    environment: Environment
    files: dict[str, bytes]

    @cached_property
    def tag(self) -> str:
        return content_hash({path: sha256_hex(data) for path, data in sorted(self.files.items())})

    def archive(self) -> bytes:
        """The context as a deterministic .tar.gz (what cloud builders download)."""
        return deterministic_tar_gz(self.files)


def dockerfile(environment: Environment, installs: bool) -> str:
    lines = [
        "# Written by `mlcompile images`; the image tag is the sha256 of this context.",
        f"FROM {environment.base}",
        f"COPY requirements.lock {IMAGE_ROOT}/requirements.lock",
    ]
    if installs:
        # Exactly the locked files (hashes checked), no resolver run in the build; the system
        # Python of a Debian base is "externally managed", which an image may override.
        lines.append(
            "RUN PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --no-cache-dir --no-deps "
            f"--require-hashes --disable-pip-version-check -r {IMAGE_ROOT}/requirements.lock"
        )
    lines += [
        f"COPY mlcompile {IMAGE_ROOT}/mlcompile",
        f"ENV PYTHONPATH={IMAGE_ROOT}",
        'LABEL dev.mlcompile.environment="' + environment.key + '"',
    ]
    return "\n".join(lines) + "\n"


def build_context(
    environment: Environment,
    step_side: dict[str, bytes],
    *,
    step: str,
    location: SourceLocation | None,
) -> BuildContext:
    lock = resolve(environment.packages, environment.python_version, step=step, location=location)
    files = {
        "Dockerfile": dockerfile(environment, bool(lock.strip())).encode(),
        "requirements.in": "".join(f"{p}\n" for p in environment.packages).encode(),
        "requirements.lock": lock.encode(),
        **step_side,
    }
    return BuildContext(environment, files)
