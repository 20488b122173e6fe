"""Deploying a compiled build: upload what the platform downloads, upsert the pipeline, run it.

One module per platform; each takes the build folder ``mlcompile compile`` wrote and a client
(or an endpoint URL), so tests drive it against local stand-ins for the cloud. ``deploy_build``
picks the module from the build's manifest.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from mlcompile.errors import DeployError
from mlcompile.profiles import Profile


def images_before_compile(spec: str, target: str, out: Path | None) -> None:
    """Build the step images a profile with ``images.builder`` asks for, before the compile
    that pins them (a profile without a builder deploys with the platform's default images)."""
    from mlcompile.images.command import build_images
    from mlcompile.loader import load
    from mlcompile.profiles import load_profile

    profile, _ = load_profile(target)
    if profile.images.builder is not None:
        images_out = (out or Path("build") / profile.name) / "images"
        build_images(load(spec).build(), profile, images_out)


def deploy_build(
    build_dir: Path,
    profile: Profile,
    *,
    start: bool = True,
    parameters: dict[str, Any] | None = None,
    endpoint_url: str | None = None,
) -> dict[str, Any]:
    """Deploy the build in ``build_dir``; returns what was created, as plain data."""
    platform = json.loads((build_dir / "manifest.json").read_text())["platform"]
    if platform == "sagemaker":
        from mlcompile.deploy import sagemaker

        params = {k: str(v) for k, v in (parameters or {}).items()}
        result: Any = sagemaker.deploy(
            build_dir, profile, endpoint_url=endpoint_url, start=start, parameters=params
        )
    elif platform == "kubeflow":
        from mlcompile.deploy import kubeflow

        result = kubeflow.deploy(build_dir, profile, start=start, parameters=parameters)
    elif platform == "vertex":
        from mlcompile.deploy import vertex

        result = vertex.deploy(build_dir, profile, start=start, parameters=parameters)
    else:
        raise DeployError(f"no deployer for platform {platform!r}")
    return {"platform": platform, **dataclasses.asdict(result)}
