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


def _refuse(message: str, hint: str) -> UserError:
    return UserError(Diagnostic("MLC004", message, None, hint))


_NEW_FOLDER_HINT = "give --out a new or empty folder, or one an earlier mlcompile command wrote"


def ensure_folder_path(folder: Path, option: str = "--out") -> None:
    """Refuse a folder path that is a file, or that lies below a file (it cannot be created)."""
    shown = folder.as_posix()
    if folder.exists() and not folder.is_dir():
        raise _refuse(
            f"{option} {shown} is a file, not a folder; mlcompile never replaces a file",
            f"give {option} a folder path (new or empty); the file is left as it is",
        )
    for parent in folder.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise _refuse(
                    f"{option} {shown} cannot be created: {parent.as_posix()} is a file",
                    f"give {option} a path whose parent folders are folders",
                )
            break


def _listed_files(data: object, record: str) -> dict[str, str] | None:
    """The ``files`` table of a manifest or record mlcompile wrote, or None when it is not one."""
    ours = {"platform", "ir_hash", "spec", "files"} if record == "manifest.json" else set()
    if not isinstance(data, dict) or not ours | {"files"} <= data.keys():
        return None
    if not ours and not str(data.get("generated_by", "")).startswith("mlcompile "):
        return None
    files = data["files"]
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in files.items()
    ):
        return None
    return files


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _shown(paths: list[str], limit: int = 5) -> str:
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


def kept_subfolders(out_dir: Path, record: str = "manifest.json") -> tuple[str, ...]:
    """The subfolders of ``out_dir`` that other commands own and a rewrite keeps as they are:
    :data:`KEPT_SUBFOLDERS` of a build folder (one listed by ``manifest.json``); none of other
    outputs (the images folder is itself kept by the build it sits in)."""
    if record != "manifest.json":
        return ()
    return tuple(
        name
        for name in KEPT_SUBFOLDERS
        if (out_dir / name).is_dir() and not (out_dir / name).is_symlink()
    )


def ensure_replaceable(out_dir: Path, record: str = "manifest.json") -> None:
    """Refuse to replace ``out_dir`` unless it is absent, empty, or exactly a build mlcompile
    wrote: a ``manifest.json`` (or other ``record``) of ours listing every file in the folder
    with a matching sha256
    (the subfolders other commands own, :func:`kept_subfolders`, are kept as they are, so a
    build folder holding only those, as `mlcompile images` leaves it, counts as empty).

    Anything else may hold the user's work; nothing in it is touched, renamed or deleted."""
    ensure_folder_path(out_dir)
    kept = kept_subfolders(out_dir, record) if out_dir.is_dir() else ()
    if not out_dir.is_dir() or all(entry.name in kept for entry in out_dir.iterdir()):
        return
    shown = out_dir.as_posix()
    manifest_path = out_dir / record
    if not manifest_path.is_file() or manifest_path.is_symlink():
        what = "build manifest.json" if record == "manifest.json" else record
        raise _refuse(f"{shown} is not empty and holds no {what}", _NEW_FOLDER_HINT)
    import json

    try:
        listed = _listed_files(json.loads(manifest_path.read_bytes()), record)
    except (ValueError, OSError):
        listed = None
    if listed is None:
        raise _refuse(
            f"{shown}/{record} was not written by mlcompile (it is not a record of its output)",
            _NEW_FOLDER_HINT,
        )
    present: set[str] = set()
    stray: list[str] = []
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir)
        if rel.parts[0] in kept:
            continue
        name = rel.as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            stray.append(name)
        elif path.is_file() and name != record:
            present.add(name)
            if name not in listed:
                stray.append(name)
        elif path.is_dir() and not any(f.startswith(name + "/") for f in listed):
            stray.append(name + "/")
    if stray:
        raise _refuse(
            f"{shown} holds what its manifest.json does not list: {_shown(stray)}; "
            "it may be your work, so the folder is left as it is",
            "move those files out of the build folder, or give --out a new folder",
        )
    changed = sorted(name for name in present if _file_sha256(out_dir / name) != listed[name])
    if changed:
        raise _refuse(
            f"{shown} has files changed since mlcompile wrote them: {_shown(changed)}; "
            "they may hold your edits, so the folder is left as it is",
            "copy your changes elsewhere and delete the folder, or give --out a new folder",
        )


#: The record an infra project keeps of the files mlcompile generated into it.
PROJECT_RECORD = ".mlcompile-files.json"


def ensure_project_writable(
    out_dir: Path, files: Mapping[str, bytes], merged: frozenset[str] = frozenset()
) -> None:
    """Refuse to write a generated project into ``out_dir`` unless it is absent, empty, or a
    project mlcompile generated whose files are as it wrote them (``merged`` files, which the
    generator merges with the user's settings, may differ). Other files of the user's beside
    them (a virtualenv, notes) are left alone."""
    ensure_folder_path(out_dir)
    if not out_dir.is_dir() or not any(out_dir.iterdir()):
        return
    import json

    shown = out_dir.as_posix()
    record = out_dir / PROJECT_RECORD
    try:
        data = json.loads(record.read_bytes()) if record.is_file() else None
    except (ValueError, OSError):
        data = None
    listed = data.get("files") if isinstance(data, dict) else None
    if not isinstance(listed, dict):
        raise _refuse(
            f"{shown} is not empty and was not generated by `mlcompile infra` "
            f"(it holds no {PROJECT_RECORD})",
            "give --out a new or empty folder, or one `mlcompile infra` wrote",
        )
    ours = {rel for rel in files if rel in listed}
    taken = sorted(rel for rel in files if rel not in listed and (out_dir / rel).exists())
    changed = sorted(
        rel
        for rel in ours | set(listed)
        if rel not in merged
        and (out_dir / rel).is_file()
        and _file_sha256(out_dir / rel) != listed.get(rel)
    )
    if taken or changed:
        what = [f"{rel} (not generated by mlcompile)" for rel in taken]
        what += [f"{rel} (changed since it was generated)" for rel in changed]
        raise _refuse(
            f"{shown}: writing the project would overwrite {_shown(what)}; nothing was written",
            "move your changes out of the generated files, or give --out a new folder",
        )


def ensure_store(store: Path) -> None:
    """Refuse a ``--store`` that is a file, lies below one, or is a non-empty folder that is
    not an artifact store (no ``lineage.db``): a run writes its own folders into the store."""
    ensure_folder_path(store, "--store")
    # ``buckets/`` alone is the emulators' stand-in for cloud buckets, filled before a first run.
    holds = {p.name for p in store.iterdir()} - {"buckets"} if store.is_dir() else set()
    if holds and not (store / "lineage.db").is_file():
        raise _refuse(
            f"--store {store.as_posix()} is a folder that is not an mlcompile artifact store "
            "(it holds no lineage.db)",
            "give --store a new or empty folder, or one an earlier `mlcompile run` wrote",
        )


def project_record(files: Mapping[str, bytes], command: str = "infra") -> bytes:
    """The record of what ``mlcompile COMMAND`` wrote into a folder, for the next run's check."""
    return json_bytes(
        {
            "generated_by": f"mlcompile {command}",
            "files": {rel: sha256_hex(data) for rel, data in sorted(files.items())},
        }
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


def write_atomic(out_dir: Path, files: Mapping[str, bytes], record: str = "manifest.json") -> None:
    """Replace ``out_dir`` with exactly ``files``, keeping subfolders other commands own.

    The build is staged in a sibling folder and swapped in by two renames; the folder it
    replaces was checked by :func:`ensure_replaceable` to be an earlier output of ours, listed
    by ``record`` (a build's manifest, or the :data:`PROJECT_RECORD` of other outputs)."""
    ensure_replaceable(out_dir, record)
    out_dir = out_dir.resolve()
    kept_here = kept_subfolders(out_dir, record) if out_dir.is_dir() else ()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    old: Path | None = None
    moved: list[str] = []
    try:
        for rel, data in files.items():
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        if out_dir.exists():
            for kept in kept_here:
                if not (stage / kept).exists():
                    os.replace(out_dir / kept, stage / kept)
                    moved.append(kept)
            # A fresh empty name: rename replaces an empty folder atomically on POSIX.
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            os.replace(out_dir, old)
        os.replace(stage, out_dir)
    except BaseException:
        # Put back what was there: the earlier build and the subfolders it kept.
        if old is not None and old.exists() and not out_dir.exists():
            os.replace(old, out_dir)
        for kept in moved:
            if (stage / kept).is_dir() and not (out_dir / kept).exists():
                os.replace(stage / kept, out_dir / kept)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
