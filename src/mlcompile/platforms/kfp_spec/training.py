"""What the KFP platforms say about the training options only SageMaker has a place for."""

from __future__ import annotations

from mlcompile.errors import Diagnostic
from mlcompile.ir import nodes as ir
from mlcompile.ir.features import Support
from mlcompile.ir.walk import graphs, scoped_tasks


def training_rules(platform: str, pipeline: ir.Pipeline) -> list[Diagnostic]:
    """register_model's instance lists have no place in a KFP or Vertex model (a Vertex model
    is deployed on the machine its deploy step names): a warning, not a refusal, so the
    same pipeline still compiles here."""
    out: list[Diagnostic] = []
    for graph in graphs(pipeline):
        for scoped in scoped_tasks(graph):
            task = scoped.task
            builtin = graph.components[task.component].builtin
            if builtin is None or builtin.op != "register_model":
                continue
            given = [
                k for k in ("inference_instances", "transform_instances") if builtin.config.get(k)
            ]
            if not given:
                continue
            out.append(
                Diagnostic(
                    "MLC407",
                    f"step {task.name!r}: register_model {' and '.join(given)} do not apply on"
                    f" {platform}, whose registered models name no instance types; they are"
                    " ignored",
                    task.location.source(),
                    "choose the serving machine in deploy_model(resources=...), or drop the"
                    " lists when this pipeline runs only here",
                    severity="warning",
                    platform=platform,
                    step=task.name,
                )
            )
    return out


_COMMON: dict[str, Support] = {
    "input-content-type": Support(
        "lowered",
        "an import_artifact's content type is recorded in the importer's artifact metadata; a"
        " step's content_types has no place in a KFP container (no input channels) and is"
        " ignored",
    ),
    "model-instance-lists": Support(
        "lowered",
        "not applicable (a registered model names no instance types): ignored, with warning MLC407",
    ),
}

KUBEFLOW_TRAINING: dict[str, Support] = {
    **_COMMON,
    "hyperparameters": Support(
        "lowered",
        "input parameters of the step's pod, as every step's; a container reads them from its"
        " arguments (placeholders)",
    ),
    "image-entrypoint": Support(
        "mapped", "a container with the image and arguments but no command: the image's entrypoint"
    ),
}

VERTEX_TRAINING: dict[str, Support] = {
    **_COMMON,
    "hyperparameters": Support(
        "lowered",
        "input parameters of the custom job (its executor input); a container reads them from"
        " its arguments, as Vertex passes hyperparameters",
    ),
    "image-entrypoint": Support(
        "mapped",
        "a custom job worker pool with image_uri and args but no command, AIP_MODEL_DIR set to"
        " the model output's URI",
    ),
}
