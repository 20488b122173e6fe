"""``import_artifact`` on this machine: a copy of what a URI names, made for the store.

The store keys every artifact by its content, so the steps that read an import rerun exactly
when the data behind the URI changed, whatever its name. A URI naming one object (a file, an S3
key, a GCS blob) gives a file; a prefix or a folder gives a folder. ``s3://`` is read with boto3
(which honours ``AWS_ENDPOINT_URL``, for a local S3 stand-in) and ``gs://`` with
google-cloud-storage, each only when installed; ``abfss://`` has no local reader.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse


class ImportFailed(Exception):
    """The URI cannot be read here; the message says why and what to do."""


def fetch(uri: str, root: Path, target: Path) -> Path:
    """Copy what ``uri`` names to ``target`` (a path that does not exist yet) and return it.
    A local path is relative to ``root``, the project folder."""
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower() if "://" in uri else ""
    if scheme in ("", "file"):
        source = Path(unquote(parsed.path)) if scheme == "file" else Path(uri)
        return _copy(source if source.is_absolute() else root / source, target, uri)
    if scheme == "s3":
        return _s3(parsed.netloc, parsed.path.lstrip("/"), target, uri)
    if scheme == "gs":
        return _gcs(parsed.netloc, parsed.path.lstrip("/"), target, uri)
    raise ImportFailed(
        f"cannot read {uri} on this machine: there is no local reader for {scheme}:// URIs;"
        " pass a local copy with -p, or run the pipeline on its platform"
    )


def _copy(source: Path, target: Path, uri: str) -> Path:
    if not source.exists():
        raise ImportFailed(f"import_artifact: {uri} does not exist ({source})")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)
    return target


def _s3(bucket: str, key: str, target: Path, uri: str) -> Path:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise ImportFailed(
            f"reading {uri} needs boto3: pip install 'mlcompile[sagemaker]'"
        ) from None
    s3 = boto3.client("s3")
    try:
        keys = [
            item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
            for item in page.get("Contents", [])
        ]
        if key in keys:  # one object
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
            return target
        prefix = key.rstrip("/") + "/" if key else ""
        inside = sorted(k for k in keys if k.startswith(prefix) and not k.endswith("/"))
        if not inside:
            raise ImportFailed(f"import_artifact: nothing is stored at {uri}")
        for name in inside:
            file = target / name[len(prefix) :]
            file.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, name, str(file))
    except (BotoCoreError, ClientError) as exc:
        raise ImportFailed(f"cannot read {uri}: {exc}") from None
    return target


def _gcs(bucket: str, name: str, target: Path, uri: str) -> Path:
    try:
        from google.cloud import storage
    except ImportError:
        raise ImportFailed(
            f"reading {uri} needs google-cloud-storage: pip install 'mlcompile[vertex]'"
        ) from None
    client = storage.Client()
    blob = client.bucket(bucket).blob(name)
    if blob.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        blob.download_to_filename(str(target))
        return target
    prefix = name.rstrip("/") + "/" if name else ""
    blobs = [b for b in client.list_blobs(bucket, prefix=prefix) if not b.name.endswith("/")]
    if not blobs:
        raise ImportFailed(f"import_artifact: nothing is stored at {uri}")
    for found in sorted(blobs, key=lambda b: str(b.name)):
        file = target / str(found.name)[len(prefix) :]
        file.parent.mkdir(parents=True, exist_ok=True)
        found.download_to_filename(str(file))
    return target
