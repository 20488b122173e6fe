"""Google Cloud Build: the context goes to the artifact store, a regional build pushes
``repository:tag`` to the stack's Artifact Registry repository, and reports the digest.

Builds run as the platform stack's builder service account
(``resource_name(profile, 'image-builder')``), which may write only that repository and read
only the build-context prefix; a user-managed account requires Cloud Logging-only logs.
"""

from __future__ import annotations

from typing import Any

from mlcompile.errors import ImageBuildError
from mlcompile.images.context import BuildContext
from mlcompile.images.registry import IMAGE_NAME, context_key
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile

DOCKER_STEP = "gcr.io/cloud-builders/docker"


class CloudBuildBuilder:
    name = "cloudbuild"

    def __init__(
        self,
        profile: Profile,
        *,
        build_client: Any = None,
        registry_client: Any = None,
        storage_client: Any = None,
        timeout_seconds: float = 3600.0,
    ) -> None:
        self.project = profile.account
        self.region = profile.region
        self.bucket = resource_name(profile, "artifact-store")
        self.repository_id = resource_name(profile, "container-registry")
        account = resource_name(profile, "image-builder")
        self.service_account = f"projects/{self.project}/serviceAccounts/{account}@{self.project}.iam.gserviceaccount.com"
        self._build_client = build_client
        self._registry_client = registry_client
        self._storage_client = storage_client
        self.timeout_seconds = timeout_seconds

    @property
    def build_client(self) -> Any:
        if self._build_client is None:
            from google.cloud.devtools import cloudbuild_v1

            self._build_client = cloudbuild_v1.CloudBuildClient()
        return self._build_client

    @property
    def registry_client(self) -> Any:
        if self._registry_client is None:
            from google.cloud import artifactregistry_v1

            self._registry_client = artifactregistry_v1.ArtifactRegistryClient()
        return self._registry_client

    @property
    def storage_client(self) -> Any:
        if self._storage_client is None:
            from google.cloud.storage import Client

            self._storage_client = Client(project=self.project)
        return self._storage_client

    def tag_name(self, tag: str) -> str:
        return (
            f"projects/{self.project}/locations/{self.region}/repositories/{self.repository_id}"
            f"/packages/{IMAGE_NAME}/tags/{tag}"
        )

    def lookup(self, repository: str, tag: str) -> str | None:
        from google.api_core.exceptions import NotFound

        try:
            found = self.registry_client.get_tag(name=self.tag_name(tag))
        except NotFound:
            return None
        # A tag points at a version named by the manifest digest: .../versions/sha256:<hex>.
        version = str(found.version).rpartition("/versions/")[2]
        return version if version.startswith("sha256:") else None

    def request(self, context: BuildContext, repository: str) -> Any:
        from google.cloud.devtools import cloudbuild_v1

        reference = f"{repository}:{context.tag}"
        return cloudbuild_v1.Build(
            source=cloudbuild_v1.Source(
                storage_source=cloudbuild_v1.StorageSource(
                    bucket=self.bucket, object_=context_key(context.tag)
                )
            ),
            steps=[
                cloudbuild_v1.BuildStep(
                    name=DOCKER_STEP, args=["build", "--pull", "-t", reference, "."]
                )
            ],
            images=[reference],
            service_account=self.service_account,
            options=cloudbuild_v1.BuildOptions(
                logging=cloudbuild_v1.BuildOptions.LoggingMode.CLOUD_LOGGING_ONLY
            ),
            tags=["mlcompile-step-image"],
        )

    def build(self, context: BuildContext, repository: str) -> str:
        blob = self.storage_client.bucket(self.bucket).blob(context_key(context.tag))
        blob.upload_from_string(context.archive(), content_type="application/gzip")
        operation = self.build_client.create_build(
            # Regional: the build runs where the repository and the bucket are.
            parent=f"projects/{self.project}/locations/{self.region}",
            build=self.request(context, repository),
        )
        result = operation.result(timeout=self.timeout_seconds)
        images = list(result.results.images)
        reference = f"{repository}:{context.tag}"
        digest = next((str(i.digest) for i in images if i.name == reference), None)
        if digest is None:
            raise ImageBuildError(
                f"Cloud Build {result.id} ended {result.status.name} without pushing {reference}"
            )
        return digest
