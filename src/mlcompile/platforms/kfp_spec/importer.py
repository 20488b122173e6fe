"""``import_artifact`` in the KFP IR: an importer executor, as ``dsl.importer`` compiles.

The launcher records the artifact at the task's ``uri`` input without running a pod; the steps
that read it download it like any artifact (KFP v2 ImporterSpec: ``artifactUri`` from the
``uri`` runtime parameter, ``typeSchema`` the artifact's type).
"""

from __future__ import annotations

from typing import Any

from mlcompile.platforms.kfp_spec.hooks import Step


def importer_executor(step: Step) -> dict[str, Any]:
    output = step.interface["outputDefinitions"]["artifacts"]["artifact"]
    return {
        "importer": {
            "artifactUri": {"runtimeParameter": "uri"},
            "typeSchema": dict(output["artifactType"]),
        }
    }
