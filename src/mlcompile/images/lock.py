"""The requirements lock of an environment: resolved once with ``uv pip compile``, with hashes.

A lock is cached by its input (the requirements, the target Python and platform), in
``$MLCOMPILE_CACHE`` or ``~/.cache/mlcompile``: an unchanged environment never resolves again,
so its build context, and the image tag, stay the same even after new releases upstream.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mlcompile.errors import Diagnostic, SourceLocation, UserError
from mlcompile.ir.canonical import content_hash

#: Linux images on x86-64 with glibc 2.28 or newer (Debian 10+, every python:3.x-slim).
PLATFORM = "x86_64-manylinux_2_28"


def cache_dir() -> Path:
    configured = os.environ.get("MLCOMPILE_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlcompile"


def _uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() else shutil.which("uv")


def lock_key(packages: tuple[str, ...], python_version: str) -> str:
    return content_hash(
        {"requirements": list(packages), "python": python_version, "platform": PLATFORM}
    )


def resolve(
    packages: tuple[str, ...], python_version: str, *, step: str, location: SourceLocation | None
) -> str:
    """The lock text (``name==version`` with ``--hash`` lines); empty without packages."""
    if not packages:
        return ""
    cached = cache_dir() / "locks" / f"{lock_key(packages, python_version)}.txt"
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    uv = _uv()
    if uv is None:
        raise UserError(
            Diagnostic(
                "MLC501",
                f"resolving the packages of step {step!r} needs uv, which is not installed",
                location,
                "install it (`pip install uv`) and run `mlcompile images` again",
            )
        )
    with tempfile.TemporaryDirectory(prefix="mlcompile-lock-") as scratch:
        requirements = Path(scratch) / "requirements.in"
        requirements.write_text("\n".join(packages) + "\n", encoding="utf-8")
        result = subprocess.run(
            [
                uv,
                "pip",
                "compile",
                str(requirements),
                "--generate-hashes",
                "--no-header",
                "--no-annotate",
                "--quiet",
                "--python-version",
                python_version,
                "--python-platform",
                PLATFORM,
            ],
            capture_output=True,
            text=True,
            check=False,
            cwd=scratch,
        )
    if result.returncode != 0:
        raise UserError(
            Diagnostic(
                "MLC502",
                f"the packages of step {step!r} ({', '.join(packages)}) do not resolve for Python "
                f"{python_version}: {result.stderr.strip().splitlines()[-1:] or ['uv failed']}",
                location,
                "fix the requirement strings in packages=, or set images.python_version in the profile",
            )
        )
    text = result.stdout
    cached.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".lock.", dir=cached.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, cached)
    return text
