"""Cloud Build through Google's own clients (REST transport) pointed at a recording server:
the context upload, the lookup of the tag in Artifact Registry, and the build request."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

from mlcompile.images.builders.cloudbuild import CloudBuildBuilder
from mlcompile.images.command import build_images, plan
from tests.images.helpers import make_profile, two_environment_pipeline
from tests.images.recording import Request, recording_server

PROFILE = """platform: vertex
cloud: gcp
environment: dev
region: europe-west4
account: mlc-dev-project
images:
  builder: cloudbuild
"""
DIGEST = "sha256:" + "ab" * 32
PARENT = "projects/mlc-dev-project/locations/europe-west4"
REPOSITORY = "europe-west4-docker.pkg.dev/mlc-dev-project/mlc-dev-steps/steps"


def _clients(url: str) -> dict[str, Any]:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import artifactregistry_v1, storage
    from google.cloud.devtools import cloudbuild_v1

    options = ClientOptions(api_endpoint=url)
    credentials = AnonymousCredentials()
    return {
        "build_client": cloudbuild_v1.CloudBuildClient(
            transport="rest", credentials=credentials, client_options=options
        ),
        "registry_client": artifactregistry_v1.ArtifactRegistryClient(
            transport="rest", credentials=credentials, client_options=options
        ),
        "storage_client": storage.Client(
            project="mlc-dev-project", credentials=credentials, client_options={"api_endpoint": url}
        ),
    }


def _operation(request: Request) -> tuple[int, Any]:
    build = request.json()
    images = [{"name": name, "digest": DIGEST} for name in build["images"]]
    return 200, {
        "name": f"{PARENT}/operations/op-1",
        "done": True,
        "response": {
            "@type": "type.googleapis.com/google.devtools.cloudbuild.v1.Build",
            "id": "build-1",
            "status": "SUCCESS",
            "results": {"images": images},
        },
    }


def test_build_request_shape(tmp_path: Path) -> None:
    profile = make_profile(PROFILE)
    pipeline = two_environment_pipeline(tmp_path)
    routes = [
        (
            "GET",
            r"/v1/projects/.*/tags/.*",
            lambda r: (
                404,
                {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}},
            ),
        ),
        (
            "POST",
            r"/upload/storage/v1/b/[^/]+/o",
            lambda r: (
                200,
                {"name": r.query.get("name", ["x"])[0], "bucket": "b", "generation": "1"},
            ),
        ),
        ("POST", rf"/v1/{PARENT}/builds", _operation),
    ]
    with recording_server(routes) as server:
        builder = CloudBuildBuilder(profile, **_clients(server.url))
        _, record = build_images(pipeline, profile, tmp_path / "images", builder=builder)
    assert record is not None and record.repository == REPOSITORY
    assert {i.digest for i in record.environments.values()} == {DIGEST}
    tags = {i.tag for i in record.environments.values()}

    lookups = server.sent("GET", r"/v1/.*")
    assert sorted(r.path for r in lookups) == sorted(
        f"/v1/{PARENT}/repositories/mlc-dev-steps/packages/steps/tags/{t}" for t in tags
    )
    uploads = server.sent("POST", r"/upload/storage/v1/b/mlc-dev-artifacts-mlc-dev-project/o")
    assert len(uploads) == 2
    builds = [r.json() for r in server.sent("POST", rf"/v1/{PARENT}/builds")]
    assert len(builds) == 2
    for build in builds:
        tag = build["images"][0].rpartition(":")[2]
        assert tag in tags
        assert build == {
            "source": {
                "storageSource": {
                    "bucket": "mlc-dev-artifacts-mlc-dev-project",
                    "object": f"image-contexts/{tag}.tar.gz",
                }
            },
            "steps": [
                {
                    "name": "gcr.io/cloud-builders/docker",
                    "args": ["build", "--pull", "-t", f"{REPOSITORY}:{tag}", "."],
                }
            ],
            "images": [f"{REPOSITORY}:{tag}"],
            "serviceAccount": "projects/mlc-dev-project/serviceAccounts/"
            "mlc-dev-image-builder@mlc-dev-project.iam.gserviceaccount.com",
            # The REST transport sends enums as numbers: 5 is CLOUD_LOGGING_ONLY.
            "options": {"logging": 5},
            "tags": ["mlcompile-step-image"],
        }
    # What was uploaded is the context itself.
    contexts = {c.tag: c for c in plan(pipeline, profile).contexts.values()}
    for upload in uploads:
        assert any(c.archive() in upload.body for c in contexts.values())
        with tarfile.open(
            fileobj=io.BytesIO(
                next(c.archive() for c in contexts.values() if c.archive() in upload.body)
            )
        ) as tar:
            assert "Dockerfile" in tar.getnames()


def test_existing_tag_is_not_rebuilt(tmp_path: Path) -> None:
    profile = make_profile(PROFILE)
    pipeline = two_environment_pipeline(tmp_path)
    found = {
        "name": "t",
        "version": f"{PARENT}/repositories/mlc-dev-steps/packages/steps/versions/{DIGEST}",
    }
    with recording_server([("GET", r"/v1/projects/.*/tags/.*", lambda r: (200, found))]) as server:
        builder = CloudBuildBuilder(profile, **_clients(server.url))
        _, record = build_images(pipeline, profile, tmp_path / "images", builder=builder)
    assert record is not None and not any(i.built for i in record.environments.values())
    assert [r.method for r in server.requests] == ["GET", "GET"]
