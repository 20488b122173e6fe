"""The authoring DSL. It only builds IR and never imports a platform SDK."""

from mlcompile.dsl.artifacts import (
    Artifact,
    Dataset,
    Input,
    Metrics,
    Model,
    Output,
    RegisteredModel,
    RunStatus,
)
from mlcompile.dsl.builtins import (
    batch_predict,
    deploy_model,
    fail,
    import_artifact,
    register_model,
)
from mlcompile.dsl.control import collect, final, for_each, merge, otherwise, when
from mlcompile.dsl.monitoring import Alert, Monitor, Retrain
from mlcompile.dsl.options import Resources, Retry, Secret
from mlcompile.dsl.pipeline import PipelineDefinition, pipeline
from mlcompile.dsl.step import Command, StepDefinition, container_step, step

__all__ = [
    "Alert",
    "Artifact",
    "Command",
    "Dataset",
    "Input",
    "Metrics",
    "Model",
    "Monitor",
    "Output",
    "PipelineDefinition",
    "RegisteredModel",
    "Resources",
    "Retrain",
    "Retry",
    "RunStatus",
    "Secret",
    "StepDefinition",
    "batch_predict",
    "collect",
    "container_step",
    "deploy_model",
    "fail",
    "final",
    "for_each",
    "import_artifact",
    "merge",
    "otherwise",
    "pipeline",
    "register_model",
    "step",
    "when",
]
