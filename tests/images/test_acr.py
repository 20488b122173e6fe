"""ACR tasks through Azure's own clients (the management client's scheduled runs, the
registry's data plane) pointed at a recording server: the upload, the lookup, the run request."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from mlcompile.images.builders.acr import AcrBuilder
from mlcompile.images.command import build_images, plan
from mlcompile.naming import resource_name
from tests.images.helpers import make_profile, two_environment_pipeline
from tests.images.recording import Request, recording_server

PROFILE = """platform: kubeflow
cloud: azure
environment: dev
region: westeurope
account: 00000000-0000-0000-0000-000000000000
azure:
  resource_group: mlc-dev-ml
images:
  builder: acr
"""
DIGEST = "sha256:" + "cd" * 32
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def _clients(url: str, registry: str) -> dict[str, Any]:
    """The real clients, talking https to Azure as far as they know; their transport sends
    every request to the recording server instead."""
    from azure.containerregistry import ContainerRegistryClient
    from azure.core.credentials import AccessToken
    from azure.core.pipeline.transport import RequestsTransport
    from azure.mgmt.containerregistry import ContainerRegistryManagementClient

    class Token:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("test-token", 2**31)

    class ToRecorder(RequestsTransport):
        def send(self, request: Any, **kwargs: Any) -> Any:
            scheme_host = "/".join(request.url.split("/", 3)[:3])
            request.url = url + request.url[len(scheme_host) :]
            return super().send(request, **kwargs)

    management = ContainerRegistryManagementClient(
        Token(),  # type: ignore[arg-type]
        SUBSCRIPTION,
        api_version="2019-06-01-preview",
        transport=ToRecorder(),
    )
    data_plane = ContainerRegistryClient(
        f"https://{registry}.azurecr.io",
        None,  # anonymous pull access: no token exchange
        audience="https://management.azure.com",
        transport=ToRecorder(),
    )
    return {"management_client": management, "registry_client": data_plane}


def test_run_request_shape(tmp_path: Path) -> None:
    profile = make_profile(PROFILE)
    pipeline = two_environment_pipeline(tmp_path)
    registry = resource_name(profile, "container-registry")
    base = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/mlc-dev-ml/providers/Microsoft.ContainerRegistry/registries/{registry}"
    server_url: list[str] = []

    def upload_url(request: Request) -> tuple[int, Any]:
        return 200, {
            "uploadUrl": f"{server_url[0]}/blob/source.tar.gz?sv=x",
            "relativePath": "source/ctx.tar.gz",
        }

    def run(request: Request) -> tuple[int, Any]:
        tag = request.json()["imageNames"][0].rpartition(":")[2]
        return 200, {
            "id": f"{base}/runs/ca1",
            "name": "ca1",
            "properties": {
                "runId": "ca1",
                "status": "Succeeded",
                "provisioningState": "Succeeded",
                "outputImages": [
                    {
                        "registry": f"{registry}.azurecr.io",
                        "repository": "steps",
                        "tag": tag,
                        "digest": DIGEST,
                    }
                ],
            },
        }

    routes = [
        (
            "GET",
            r"/acr/v1/steps/_tags/.*",
            lambda r: (404, {"errors": [{"code": "TAG_UNKNOWN", "message": "not found"}]}),
        ),
        ("POST", rf"{base}/listBuildSourceUploadUrl", upload_url),
        ("PUT", r"/blob/source.tar.gz", lambda r: (201, b"")),
        ("POST", rf"{base}/scheduleRun", run),
    ]
    with recording_server(routes) as server:
        server_url.append(server.url)
        builder = AcrBuilder(
            profile,
            poll_seconds=0.01,
            **_clients(server.url, resource_name(profile, "container-registry")),
        )
        _, record = build_images(pipeline, profile, tmp_path / "images", builder=builder)
    assert record is not None and record.repository == f"{registry}.azurecr.io/steps"
    assert {i.digest for i in record.environments.values()} == {DIGEST}
    tags = {i.tag for i in record.environments.values()}
    assert sorted(r.path for r in server.sent("GET", r"/acr/.*")) == sorted(
        f"/acr/v1/steps/_tags/{t}" for t in tags
    )
    runs = server.sent("POST", rf"{base}/scheduleRun")
    assert {r.query["api-version"][0] for r in runs} == {"2019-06-01-preview"}
    bodies = [r.json() for r in runs]
    for body in bodies:
        tag = body["imageNames"][0].rpartition(":")[2]
        assert body == {
            "type": "DockerBuildRequest",
            "isArchiveEnabled": False,
            "imageNames": [f"steps:{tag}"],
            "isPushEnabled": True,
            "noCache": False,
            "dockerFilePath": "Dockerfile",
            "platform": {"os": "Linux", "architecture": "amd64"},
            "timeout": 3600,
            "sourceLocation": "source/ctx.tar.gz",
        }
    assert {b["imageNames"][0].rpartition(":")[2] for b in bodies} == tags
    uploads = server.sent("PUT", r"/blob/source.tar.gz")
    assert {u.headers["x-ms-blob-type"] for u in uploads} == {"BlockBlob"}
    archives = {c.archive() for c in plan(pipeline, profile).contexts.values()}
    assert {u.body for u in uploads} == archives
    with tarfile.open(fileobj=io.BytesIO(uploads[0].body)) as tar:
        assert "requirements.lock" in tar.getnames()


def test_existing_tag_is_not_rebuilt(tmp_path: Path) -> None:
    profile = make_profile(PROFILE)
    pipeline = two_environment_pipeline(tmp_path)

    def tag(request: Request) -> tuple[int, Any]:
        name = request.path.rpartition("/")[2]
        return 200, {
            "registry": "r",
            "imageName": "steps",
            "tag": {
                "name": name,
                "digest": DIGEST,
                "createdTime": "2026-01-01T00:00:00Z",
                "lastUpdateTime": "2026-01-01T00:00:00Z",
                "signed": False,
                "changeableAttributes": {
                    "deleteEnabled": True,
                    "writeEnabled": True,
                    "readEnabled": True,
                    "listEnabled": True,
                },
            },
        }

    with recording_server([("GET", r"/acr/v1/steps/_tags/.*", tag)]) as server:
        builder = AcrBuilder(
            profile, **_clients(server.url, resource_name(profile, "container-registry"))
        )
        _, record = build_images(pipeline, profile, tmp_path / "images", builder=builder)
    assert record is not None and not any(i.built for i in record.environments.values())
    assert {i.digest for i in record.environments.values()} == {DIGEST}
    assert [r.method for r in server.requests] == ["GET", "GET"]
