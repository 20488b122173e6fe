"""The artifact store on disk: content-addressed artifacts, scratch space and step logs.

Steps write outputs into a scratch folder; a finished output is hashed and renamed into
``artifacts/<sha256>``. A rename is atomic, so an interrupted run never leaves a half-written
artifact where a cache hit could find it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(path: Path) -> str:
    """A file's sha256, or for a folder the sha256 of its sorted (relative path, file sha256)
    listing, so the hash does not depend on the order the file system lists entries in."""
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256(b"mlcompile-tree-v1\n")
    for entry in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = entry.relative_to(path).as_posix()
        digest.update(f"{rel}\0{file_sha256(entry)}\n".encode())
    return digest.hexdigest()


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class ArtifactStore:
    """Folders under the store root: ``artifacts/``, ``tmp/`` (scratch) and ``logs/``."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.artifacts = self.root / "artifacts"
        self.tmp = self.root / "tmp"
        self.logs = self.root / "logs"
        for folder in (self.artifacts, self.tmp, self.logs):
            folder.mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        return self.artifacts / sha256

    def uri_of(self, sha256: str) -> str:
        return self.path_of(sha256).as_uri()

    def has(self, sha256: str) -> bool:
        return self.path_of(sha256).exists()

    def ingest(self, produced: Path) -> tuple[str, int]:
        """Move a finished output into the store; returns its sha256 and size in bytes."""
        sha = tree_sha256(produced)
        size = tree_size(produced)
        target = self.path_of(sha)
        if target.exists():
            _remove(produced)
            return sha, size
        _make_read_only(produced)
        try:
            os.replace(produced, target)
        except OSError:
            # Another step stored the same content at the same moment (a folder cannot be
            # replaced); the copy already there is identical.
            if not target.exists():
                raise
            _remove(produced)
        return sha, size

    def scratch(self, run_id: str) -> Path:
        folder = self.tmp / run_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def clear_scratch(self, run_id: str) -> None:
        _remove(self.tmp / run_id)

    def keep_definition(self, ir_hash: str, text: str) -> None:
        """The pipeline's IR by its hash, so a run can be drawn after its file has changed."""
        target = self.root / "ir" / f"{ir_hash}.json"
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)

    def definition(self, ir_hash: str) -> str | None:
        target = self.root / "ir" / f"{ir_hash}.json"
        return target.read_text(encoding="utf-8") if target.is_file() else None

    def log_path(self, run_id: str, step: str) -> Path:
        folder = self.logs / run_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder / (safe_name(step) + ".log")


def safe_name(name: str) -> str:
    """A step's display name (``prepare/split``, ``fit[2]``) as one file name."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _make_read_only(path: Path) -> None:
    """Stored artifacts are shared by every run that hits the cache: a step that writes to its
    input by mistake gets a PermissionError instead of corrupting them."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for f in files:
        mode = f.stat().st_mode
        f.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()
