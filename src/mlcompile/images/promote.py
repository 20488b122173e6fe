"""Promotion by digest: the images a tested build recorded, copied to the target's registry.

A release must run what dev tested, so a promoted environment gets the tested image's manifest
(the same digest) in its own registry instead of a rebuild, which could resolve other bytes.
``skopeo copy --preserve-digests`` copies registry to registry; the job needs read access to the
tested registry and push access to the target's.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from mlcompile.errors import Diagnostic, UserError
from mlcompile.images.context import BuildContext
from mlcompile.images.record import RECORD_FILE, Record, read_record
from mlcompile.profiles import Profile


def tested_record(folder: Path) -> Record:
    record = read_record(folder / RECORD_FILE)
    if record is None:
        raise UserError(
            Diagnostic(
                "MLC504",
                f"no images record in {folder.as_posix()}",
                None,
                "pass the images folder of the build dev tested (<build>/images, with"
                f" {RECORD_FILE})",
            )
        )
    return record


def copy_tested(
    tested: Record,
    key: str,
    context: BuildContext,
    steps: list[str],
    repository: str,
    profile: Profile,
) -> str:
    """Copy the tested image of environment ``key`` to ``repository:<tag>``; its digest."""
    source = tested.environments.get(key)
    if source is None:
        raise UserError(
            Diagnostic(
                "MLC504",
                f"the image of step(s) {', '.join(steps)} was not in the tested build"
                f" ({tested.profile}): its base or packages changed since",
                None,
                "promote the commit dev tested; a changed environment goes through dev first",
            )
        )
    if shutil.which("skopeo") is None:
        raise UserError(
            Diagnostic(
                "MLC501",
                "promoting images by digest needs skopeo; it is not installed",
                None,
                "install it (Debian: `apt-get install -y skopeo`; GitHub's Ubuntu runners have it)",
            )
        )
    tls = f"--tls-verify={'true' if profile.images.tls_verify else 'false'}"
    target = f"{repository}:{context.tag}"
    with tempfile.TemporaryDirectory(prefix="mlcompile-promote-") as scratch:
        digest_file = Path(scratch) / "digest"
        done = subprocess.run(
            [
                "skopeo",
                "copy",
                "--all",
                "--preserve-digests",
                f"--src-{tls[2:]}",
                f"--dest-{tls[2:]}",
                "--digestfile",
                str(digest_file),
                f"docker://{source.reference}",
                f"docker://{target}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        digest = digest_file.read_text().strip() if digest_file.is_file() else ""
    if done.returncode != 0 or digest != source.digest:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise UserError(
            Diagnostic(
                "MLC505",
                f"copying {source.reference} to {target} "
                + (f"failed:\n{tail}" if done.returncode else f"gave digest {digest}"),
                None,
                "log in to both registries (the tested one to read, the target's to push)",
            )
        )
    return digest
