"""Uploading a KFP build's code bundle to where its spec reads it (Kubeflow, Vertex AI).

The compiled spec's importer reads ``code/<sha256>.tar.gz`` under the pipeline root (the default
of its ``mlcompile_code_uri`` input); ``compile`` records that URI in the manifest. The bundle is
content-addressed, so one already there is not uploaded again. S3 goes through boto3, Cloud
Storage through google-cloud-storage; tests pass their own store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from mlcompile.errors import DeployError


class BundleStore(Protocol):
    """The two object-store calls an upload needs."""

    def exists(self, bucket: str, key: str) -> bool: ...

    def put(self, bucket: str, key: str, data: bytes) -> None: ...


class S3Store:
    def __init__(self, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client

    def exists(self, bucket: str, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=data)


class GcsStore:
    def __init__(self, client: Any = None) -> None:
        if client is None:
            from google.cloud import storage  # type: ignore[attr-defined,unused-ignore]

            client = storage.Client()
        self.client = client

    def exists(self, bucket: str, key: str) -> bool:
        return bool(self.client.bucket(bucket).blob(key).exists())

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.client.bucket(bucket).blob(key).upload_from_string(data)


_STORES: dict[str, type[S3Store] | type[GcsStore]] = {"s3://": S3Store, "gs://": GcsStore}


def upload_code_bundle(
    build_dir: Path, manifest: dict[str, Any], store: BundleStore | None = None
) -> str | None:
    """Upload the build's code bundle unless it is there already; returns the URI uploaded to,
    or None when nothing was uploaded (no bundle, or an identical one in place)."""
    bundle = manifest.get("code_bundle")
    if not bundle:
        return None
    uri = str(bundle["uri"])
    scheme = next((s for s in _STORES if uri.startswith(s)), None)
    if scheme is None:
        raise DeployError(
            f"cannot upload the code bundle to {uri}: only s3:// and gs:// stores are supported; "
            f"copy {build_dir / bundle['path']} there yourself, or start runs with "
            "mlcompile_code_uri set to a copy the cluster can read"
        )
    bucket, _, key = uri[len(scheme) :].partition("/")
    try:
        target: BundleStore = store or _STORES[scheme]()
        if target.exists(bucket, key):
            return None
        target.put(bucket, key, (build_dir / bundle["path"]).read_bytes())
    except DeployError:
        raise
    except Exception as exc:  # botocore and google.api_core raise their own error types
        raise DeployError(
            f"cannot upload the code bundle to {uri} (does the infra stack exist?): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    return uri
