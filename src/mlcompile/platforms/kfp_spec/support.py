"""How the shared KFP lowering maps the IR's graph features: the same on every platform that
runs KFP IR, so Kubeflow and Vertex state them once, here, and add their own rows."""

from __future__ import annotations

from mlcompile.errors import Diagnostic
from mlcompile.ir import nodes as ir
from mlcompile.ir.features import FeatureUse, Support

GRAPH_SUPPORT: dict[str, Support] = {
    "container-step": Support("mapped", "a container with KFP placeholders"),
    "container-outputs": Support(
        "mapped", "output parameters: the launcher reads each value from its output_file"
    ),
    "nested-pipeline": Support("mapped", "a graph component"),
    "pipeline-outputs": Support("mapped", "root DAG outputs"),
    "condition": Support("mapped", "a condition group with a CEL triggerPolicy"),
    "else-branch": Support("mapped", "a negated condition group beside the then-group"),
    "compound-condition": Support("mapped", "CEL &&, || and !"),
    "metric-condition": Support("lowered", "a read_metric step turns the metric into a parameter"),
    "fan-out-literal": Support("mapped", "ParallelFor over raw items"),
    "fan-out-parameter": Support("mapped", "ParallelFor over a pipeline parameter"),
    "fan-out-runtime": Support("mapped", "ParallelFor over a step's list output"),
    "parallelism-limit": Support("mapped", "iteratorPolicy.parallelismLimit"),
    "fan-in": Support("mapped", "a loop DAG output collected as a list"),
    "merge": Support("mapped", "valueFromOneof over the branches"),
    "final-step": Support(
        "mapped", "an exit handler; in a nested pipeline, around that pipeline's own steps"
    ),
    "final-status": Support(
        "mapped", "a TASK_FINAL_STATUS input reading the exit handler's taskFinalStatus"
    ),
    "fail": Support("lowered", "a step that exits non-zero with the message"),
    "retries": Support("mapped", "retryPolicy"),
    "retry-backoff": Support("mapped", "retryPolicy backoff"),
    "cache-disabled": Support("mapped", "cachingOptions"),
    "env": Support("mapped", "container env"),
    "env-parameter": Support(
        "lowered",
        "KFP's container env is fixed in the IR: the value arrives as a step input, and the"
        " runtime sets the variable before the step's code runs",
    ),
    "container-env-parameter": Support(
        "refused",
        "KFP's container env is fixed in the IR and a container step runs no step side to set"
        " it: pass the parameter as an argument of the command instead",
    ),
    "packages": Support("mapped", "pip-installed before the step runs"),
    "after": Support("mapped", "dependentTasks"),
}


def graph_rules(platform: str, pipeline: ir.Pipeline) -> list[Diagnostic]:
    """What KFP IR cannot say although the IR can: a pipeline output read straight from a
    pipeline parameter (a DAG output names the subtask that produced it)."""
    from mlcompile.platforms import refusal

    out = []
    graphs = [pipeline] + [c.pipeline for c in pipeline.components.values() if c.pipeline]
    for graph in graphs:
        for output in graph.outputs:
            if isinstance(output.source, ir.ParamRef):
                use = FeatureUse("pipeline-outputs", graph.name, graph.location)
                out.append(
                    refusal(
                        platform,
                        use,
                        f"pipeline output {output.name!r} is the pipeline parameter "
                        f"{output.source.name!r}; KFP IR takes outputs from steps only: return "
                        "the output of a step that reads the parameter",
                    )
                )
    return out
