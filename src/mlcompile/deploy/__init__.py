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
