"""Building on this machine with podman, buildah or docker, whichever is installed.

Builds run with ``--pull=false`` (a base already in local storage is used as is) and, with
podman and buildah, ``--timestamp 0``, so a rebuild of the same context gives the same layers.
The registry is asked for the tag with skopeo first. A ``RUN pip install`` trusts the host's
CA bundle (mounted read-only), as a build behind a TLS-inspecting proxy needs.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from mlcompile.errors import Diagnostic, ImageBuildError, UserError
from mlcompile.images.context import BuildContext
from mlcompile.profiles import Profile

TOOLS = ("podman", "buildah", "docker")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def find_tool(names: tuple[str, ...] = TOOLS) -> str | None:
    return next((name for name in names if shutil.which(name)), None)


def _run(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise ImageBuildError(
            f"{what} failed ({' '.join(argv[:2])}, exit {result.returncode}):\n{tail}"
        )
    return result


class LocalBuilder:
    name = "local"

    def __init__(self, profile: Profile, tool: str | None = None) -> None:
        found = tool or find_tool()
        if found is None:
            raise UserError(
                Diagnostic(
                    "MLC501",
                    "images.builder local needs podman, buildah or docker; none is installed",
                    None,
                    "install one (Debian: `apt-get install -y buildah podman skopeo runc`), "
                    "or set images.builder to the cloud builder of the profile",
                )
            )
        self.tool = found
        self.tls = f"--tls-verify={'true' if profile.images.tls_verify else 'false'}"

    def lookup(self, repository: str, tag: str) -> str | None:
        if shutil.which("skopeo") is None:
            return None  # without skopeo every environment is built (and the tag pushed again)
        result = subprocess.run(
            [
                "skopeo",
                "inspect",
                self.tls,
                "--format",
                "{{.Digest}}",
                f"docker://{repository}:{tag}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        digest = result.stdout.strip()
        return digest if result.returncode == 0 and digest.startswith("sha256:") else None

    def build(self, context: BuildContext, repository: str) -> str:
        reference = f"{repository}:{context.tag}"
        with tempfile.TemporaryDirectory(prefix="mlcompile-image-") as scratch:
            folder = Path(scratch) / "context"
            for rel, data in context.files.items():
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            digest_file = Path(scratch) / "digest"
            _run(
                self._build_argv(folder, reference, bool(context.environment.packages)),
                "image build",
            )
            if self.tool == "docker":
                _run(["docker", "push", reference], "image push")
                shown = _run(
                    ["docker", "inspect", "--format", "{{index .RepoDigests 0}}", reference],
                    "reading the pushed digest",
                ).stdout.strip()
                return shown.rpartition("@")[2]
            push = [self.tool, "push", self.tls, "--digestfile", str(digest_file), reference]
            if self.tool == "buildah":
                push.append(f"docker://{reference}")
            _run(push, "image push")
            return digest_file.read_text(encoding="utf-8").strip()

    def _build_argv(self, folder: Path, reference: str, installs: bool) -> list[str]:
        verb = ["buildah", "bud"] if self.tool == "buildah" else [self.tool, "build"]
        argv = [*verb, "--pull=false", "-t", reference, "-f", str(folder / "Dockerfile")]
        if self.tool != "docker":
            argv += ["--timestamp", "0"]
            if installs and HOST_CA_BUNDLE.is_file():
                argv += ["--volume", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
        return [*argv, str(folder)]
