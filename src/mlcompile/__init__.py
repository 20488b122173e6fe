"""mlcompile: write an ML pipeline once in Python, compile it to Kubeflow, SageMaker and Vertex AI.

The names here are the whole authoring API; everything else is reached through the CLI.
"""

from mlcompile.dsl import (
    Artifact,
    Command,
    Dataset,
    Input,
    Metrics,
    Model,
    Output,
    PipelineDefinition,
    RegisteredModel,
    Resources,
    Retry,
    Secret,
    StepDefinition,
    batch_predict,
    collect,
    container_step,
    deploy_model,
    fail,
    final,
    for_each,
    merge,
    otherwise,
    pipeline,
    register_model,
    step,
    when,
)
from mlcompile.errors import Diagnostic, MlcompileError, ValidationError

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "Command",
    "Dataset",
    "Diagnostic",
    "Input",
    "Metrics",
    "MlcompileError",
    "Model",
    "Output",
    "PipelineDefinition",
    "RegisteredModel",
    "Resources",
    "Retry",
    "Secret",
    "StepDefinition",
    "ValidationError",
    "__version__",
    "batch_predict",
    "collect",
    "container_step",
    "deploy_model",
    "fail",
    "final",
    "for_each",
    "merge",
    "otherwise",
    "pipeline",
    "register_model",
    "step",
    "when",
]
