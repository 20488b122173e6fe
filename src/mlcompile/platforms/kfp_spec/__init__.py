"""KFP IR (PipelineSpec) from the mlcompile IR, shared by every platform that runs KFP IR.

:func:`lower` writes the graph (DAGs, conditions, loops, exit handler, channels, retries,
caching); a platform's :class:`Hooks` write each step's executor and platform config. Kubeflow
and Vertex AI both build on it.
"""

from mlcompile.platforms.kfp_spec.command import CODE_INPUT, fixed_env, runtime_command
from mlcompile.platforms.kfp_spec.emit import dump_yaml
from mlcompile.platforms.kfp_spec.hooks import Hooks, Step
from mlcompile.platforms.kfp_spec.lower import SDK_VERSION, LoweredSpec, lower

__all__ = [
    "CODE_INPUT",
    "SDK_VERSION",
    "Hooks",
    "LoweredSpec",
    "Step",
    "dump_yaml",
    "fixed_env",
    "lower",
    "runtime_command",
]
