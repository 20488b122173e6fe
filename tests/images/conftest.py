"""Fixtures for the image tests: container settings, the local base image, a registry."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.images import containers


@pytest.fixture(scope="session")
def container_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """podman and buildah settings for this host, exported for the session."""
    containers.need("buildah", "podman", "skopeo", "runc")
    root = tmp_path_factory.mktemp("containers")
    env = containers.container_env(root)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        containers.release_storage(root)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def base_image(container_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Debian bookworm image with python3, made without pulling from any registry."""
    containers.need("debootstrap")
    tar = containers.base_rootfs_tar()
    return containers.import_base(
        tar, tar.parent.name, container_env, tmp_path_factory.mktemp("base")
    )


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    containers.need("docker-registry")
    yield from containers.start_registry(Path(tmp_path_factory.mktemp("registry")))
