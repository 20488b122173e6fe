"""Azure Container Registry tasks: the context is uploaded to the registry's build-source
storage, a quick run (``az acr build``'s API) builds and pushes ``repository:tag`` inside the
stack's registry, and the run reports the digest.

Runs execute inside the registry itself, so nothing needs rights beyond that registry. The
lookup asks the registry's data plane for the tag.
"""

from __future__ import annotations

import time
from typing import Any

from mlcompile.errors import ImageBuildError
from mlcompile.images.context import BuildContext
from mlcompile.images.registry import IMAGE_NAME
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile

#: The management API version with scheduled runs (tasks) in azure-mgmt-containerregistry.
API_VERSION = "2019-06-01-preview"
_DONE = {"Succeeded", "Failed", "Canceled", "Error", "Timeout"}


class AcrBuilder:
    name = "acr"

    def __init__(
        self,
        profile: Profile,
        *,
        management_client: Any = None,
        registry_client: Any = None,
        upload: Any = None,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 3600.0,
    ) -> None:
        self.subscription = profile.account
        self.resource_group = resource_name(profile, "resource-group")
        self.registry = resource_name(profile, "container-registry")
        self._management = management_client
        self._registry_client = registry_client
        self._upload = upload
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds

    @property
    def management(self) -> Any:
        if self._management is None:
            from azure.identity import DefaultAzureCredential
            from azure.mgmt.containerregistry import ContainerRegistryManagementClient

            self._management = ContainerRegistryManagementClient(
                DefaultAzureCredential(), self.subscription, api_version=API_VERSION
            )
        return self._management

    @property
    def registry_client(self) -> Any:
        if self._registry_client is None:
            from azure.containerregistry import ContainerRegistryClient
            from azure.identity import DefaultAzureCredential

            self._registry_client = ContainerRegistryClient(
                f"https://{self.registry}.azurecr.io", DefaultAzureCredential()
            )
        return self._registry_client

    def lookup(self, repository: str, tag: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            found = self.registry_client.get_tag_properties(IMAGE_NAME, tag)
        except ResourceNotFoundError:
            return None
        return str(found.digest)

    def _put_blob(self, url: str, data: bytes) -> None:
        if self._upload is not None:
            self._upload(url, data)
            return
        import urllib.request

        request = urllib.request.Request(
            url, data=data, method="PUT", headers={"x-ms-blob-type": "BlockBlob"}
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            if response.status not in (200, 201):
                raise ImageBuildError(f"uploading the build context failed: HTTP {response.status}")

    def request(self, context: BuildContext, source_location: str) -> Any:
        from azure.mgmt.containerregistry.v2019_06_01_preview import models

        return models.DockerBuildRequest(
            source_location=source_location,
            docker_file_path="Dockerfile",
            image_names=[f"{IMAGE_NAME}:{context.tag}"],
            is_push_enabled=True,
            no_cache=False,
            platform=models.PlatformProperties(os="Linux", architecture="amd64"),
            timeout=int(self.timeout_seconds),
        )

    def build(self, context: BuildContext, repository: str) -> str:
        client = self.management
        upload = client.registries.get_build_source_upload_url(self.resource_group, self.registry)
        self._put_blob(upload.upload_url, context.archive())
        run = client.registries.begin_schedule_run(
            self.resource_group, self.registry, self.request(context, upload.relative_path)
        ).result()
        deadline = time.monotonic() + self.timeout_seconds
        while run.status not in _DONE:
            if time.monotonic() > deadline:
                raise ImageBuildError(f"ACR run {run.run_id} did not finish in time")
            time.sleep(self.poll_seconds)
            run = client.runs.get(self.resource_group, self.registry, run.run_id)
        if run.status != "Succeeded":
            raise ImageBuildError(
                f"ACR run {run.run_id} ended {run.status}: `az acr task logs --registry "
                f"{self.registry} --run-id {run.run_id}` shows why"
            )
        for image in run.output_images or []:
            if image.repository == IMAGE_NAME and image.tag == context.tag:
                return str(image.digest)
        raise ImageBuildError(f"ACR run {run.run_id} pushed no {IMAGE_NAME}:{context.tag}")
