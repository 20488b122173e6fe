"""``import_artifact`` in the KFP IR: an importer executor, as ``dsl.importer`` compiles.

The launcher records the artifact at the task's ``uri`` input without running a pod; the steps
that read it download it like any artifact (KFP v2 ImporterSpec: ``artifactUri`` from the
``uri`` runtime parameter, ``typeSchema`` the artifact's type). A content type given to
``import_artifact`` is recorded in the importer's ``metadata``, which the launcher stores with
the artifact (``dsl.importer(metadata=...)``): KFP has no channel that would carry it.
"""

from __future__ import annotations

from typing import Any

from mlcompile.platforms.kfp_spec.hooks import Step


def importer_executor(step: Step) -> dict[str, Any]:
    output = step.interface["outputDefinitions"]["artifacts"]["artifact"]
    importer: dict[str, Any] = {
        "artifactUri": {"runtimeParameter": "uri"},
        "typeSchema": dict(output["artifactType"]),
    }
    builtin = step.component.builtin
    content_type = builtin.config.get("content_type") if builtin is not None else None
    if content_type:
        importer["metadata"] = {"content_type": content_type}
    return {"importer": importer}
