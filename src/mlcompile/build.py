"""Writing a build: atomic output folders, provenance manifests, deterministic archives.

A build is staged in a temporary sibling folder and renamed into place, so a failed compile
never leaves a half-written build where the last good one was. The manifest records what the
build came from (IR hash, source hashes, git commit, versions, profile hash) and the sha256 of
every file written.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mlcompile.errors import Diagnostic, UserError
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import canonical_json, content_hash, sha256_hex
from mlcompile.profiles import Profile

#: Subfolders of a build folder that other commands own and a rebuild keeps.
KEPT_SUBFOLDERS = ("infra", "images")


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def git_provenance(root: Path, files: list[str]) -> dict[str, object]:
    """The commit the sources are at, and whether any of them differs from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", *files],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


def manifest(
    pipeline: ir.Pipeline,
    profile: Profile,
    root: Path,
    spec: str,
    files: Mapping[str, bytes],
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    versions = {"mlcompile": package_version("mlcompile")}
    extra = dict(extra or {})
    versions.update(extra.pop("sdk_versions", {}) or {})  # type: ignore[call-overload]
    return {
        "platform": profile.platform,
        "profile": profile.name,
        "profile_hash": profile.content_hash(),
        "pipeline": pipeline.name,
        "ir_hash": content_hash(pipeline),
        "spec": spec,
        "files": {path: sha256_hex(data) for path, data in sorted(files.items())},
        "sources": {path: source.sha256 for path, source in sorted(pipeline.sources.items())},
        "git": git_provenance(root, sorted(pipeline.sources)),
        "versions": dict(sorted(versions.items())),
        **extra,
    }


def ensure_replaceable(out_dir: Path, marker: str) -> None:
    """Refuse to replace a folder that holds something other than an earlier output of ours
    (recognised by ``marker``): nothing the user wrote is deleted."""
    foreign = out_dir.is_dir() and any(p.name not in KEPT_SUBFOLDERS for p in out_dir.iterdir())
    if foreign and not (out_dir / marker).exists():
        raise UserError(
            Diagnostic(
                "MLC004",
                f"{out_dir.as_posix()} is not empty and holds no {marker} from an earlier build",
                None,
                "give --out a new or empty folder, or one an earlier mlcompile command wrote",
            )
        )


def write_files(out_dir: Path, files: Mapping[str, bytes]) -> None:
    """Write each file atomically (temporary file, then rename), leaving other files in
    ``out_dir`` alone: a generated project may sit beside the user's own files (a virtualenv)."""
    for rel, data in files.items():
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def write_atomic(out_dir: Path, files: Mapping[str, bytes], marker: str = "manifest.json") -> None:
    """Replace ``out_dir`` with exactly ``files``, keeping subfolders other commands own."""
    ensure_replaceable(out_dir, marker)
    out_dir = out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for rel, data in files.items():
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        old = None
        if out_dir.exists():
            for kept in KEPT_SUBFOLDERS:
                if (out_dir / kept).exists() and not (stage / kept).exists():
                    shutil.move(str(out_dir / kept), str(stage / kept))
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(stage, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def json_bytes(data: object) -> bytes:
    """Indented, sorted JSON with a final newline: stable and diff-friendly."""
    return (canonical_json(data, indent=2) + "\n").encode()


def deterministic_tar_gz(files: Mapping[str, bytes]) -> bytes:
    """A .tar.gz whose bytes depend only on the files: sorted, no times, owners or modes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()
