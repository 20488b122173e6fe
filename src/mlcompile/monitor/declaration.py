"""The monitors a pipeline declares, with what the IR leaves implicit made explicit.

A ``deploy_model(monitor=Monitor(...))`` names its baseline only when the user chose one; by
default it is the data set the deployed model was trained on, found by walking back from the
endpoint to the registered model, to the training step, to that step's Dataset input. The
retraining parameters are checked against the pipeline's own, here, at compile time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlcompile.errors import DiagnosticSink
from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import tasks_by_name


@dataclass(frozen=True)
class MonitoredEndpoint:
    """One monitored endpoint, its baseline resolved (None when it cannot be found)."""

    task: ir.Task
    endpoint: str
    monitor: ir.Monitor
    baseline: ir.OutputRef | None
    #: The pipeline parameter register_model reads its approval status from, if any.
    approval_parameter: str | None

    def retrain_params(self) -> dict[str, Any]:
        """The parameters a drift-triggered run starts with (approval included)."""
        action = self.monitor.on_drift
        params = dict(action.params)
        if action.approval is not None and self.approval_parameter is not None:
            params[self.approval_parameter] = action.approval
        return params

    def drift(self) -> dict[str, Any]:
        """What the stack's monitoring components take (``mlcompile.infra.drift.Drift``)."""
        m = self.monitor
        return {
            "endpoint": self.endpoint,
            "features": [f.name for f in m.features],
            "thresholds": dict(m.thresholds),
            "cron": m.schedule,
            "retrain": self.retrain_params() if m.on_drift.action == "retrain" else None,
        }

    def kinds(self) -> dict[str, str]:
        return {f.name: f.kind for f in self.monitor.features}

    def spec(self) -> dict[str, Any]:
        """The declaration as plain JSON, for the standard-library comparison code."""
        m = self.monitor
        return {
            "endpoint": self.endpoint,
            "features": [{"name": f.name, "kind": f.kind} for f in m.features],
            "statistics": {k: list(v) for k, v in m.statistics.items()},
            "thresholds": dict(m.thresholds),
            "schema": m.check_schema,
            "schedule": m.schedule,
            "on_drift": m.on_drift.action,
            "retrain_params": self.retrain_params(),
        }


def monitored_endpoints(pipeline: ir.Pipeline) -> list[MonitoredEndpoint]:
    tasks = {name: scoped.task for name, scoped in tasks_by_name(pipeline).items()}
    found: list[MonitoredEndpoint] = []
    for task in tasks.values():
        builtin = pipeline.components[task.component].builtin
        if builtin is None or builtin.op != "deploy_model" or builtin.monitor is None:
            continue
        register = _producer(pipeline, tasks, task.inputs.get("model"), "register_model")
        baseline = builtin.monitor.baseline
        if baseline is None and register is not None:
            baseline = _training_data(pipeline, tasks, register.inputs.get("model"))
        approval = register.inputs.get("approval") if register is not None else None
        found.append(
            MonitoredEndpoint(
                task,
                str(builtin.config["endpoint"]),
                builtin.monitor,
                baseline,
                approval.name if isinstance(approval, ir.ParamRef) else None,
            )
        )
    return sorted(found, key=lambda m: m.endpoint)


def check_monitors(pipeline: ir.Pipeline, sink: DiagnosticSink) -> None:
    """Report what a monitor declares that this pipeline cannot honour."""
    tasks = tasks_by_name(pipeline)
    for found in monitored_endpoints(pipeline):
        where = found.monitor.location.source()
        intro = f"deploy_model(endpoint={found.endpoint!r}) monitor"
        if found.baseline is None:
            sink.error(
                "MLC134",
                f"{intro}: no baseline, and the training data of the deployed model cannot be"
                " found (the model does not come from a step with exactly one Dataset input)",
                where,
                "pass baseline=<a step's Output[Dataset]>, e.g. baseline=parts.train",
                step=found.task.name,
            )
        elif (
            found.baseline.task not in tasks or _output_type(pipeline, found.baseline) != "Dataset"
        ):
            sink.error(
                "MLC134",
                f"{intro}: baseline {found.baseline.task}.{found.baseline.output} is not a Dataset",
                where,
                "pass a step's Output[Dataset]",
                step=found.task.name,
            )
        action = found.monitor.on_drift
        if action.action != "retrain":
            continue
        for name, value in action.params.items():
            port = pipeline.parameter(name)
            known = ", ".join(p.name for p in pipeline.parameters) or "none"
            if port is None:
                sink.error(
                    "MLC136",
                    f"{intro}: Retrain sets {name!r}, which is not a parameter of pipeline"
                    f" {pipeline.name!r}",
                    where,
                    f"use the pipeline's parameters: {known}",
                    step=found.task.name,
                )
            elif not _fits(value, port.type):
                sink.error(
                    "MLC136",
                    f"{intro}: Retrain sets {name}={value!r}, but the parameter is {port.type}",
                    where,
                    f"give a {port.type} value",
                    step=found.task.name,
                )
        if action.approval is not None and found.approval_parameter is None:
            sink.error(
                "MLC137",
                f"{intro}: Retrain(approval={action.approval!r}) cannot be applied: the"
                " register_model before this endpoint takes a fixed approval status",
                where,
                "give register_model(approval=<a str pipeline parameter>), or drop approval=",
                step=found.task.name,
            )


def _producer(
    pipeline: ir.Pipeline, tasks: dict[str, ir.Task], value: ir.Value | None, op: str
) -> ir.Task | None:
    if not isinstance(value, ir.OutputRef) or value.task not in tasks:
        return None
    task = tasks[value.task]
    builtin = pipeline.components[task.component].builtin
    return task if builtin is not None and builtin.op == op else None


def _training_data(
    pipeline: ir.Pipeline, tasks: dict[str, ir.Task], model: ir.Value | None
) -> ir.OutputRef | None:
    if not isinstance(model, ir.OutputRef) or model.task not in tasks:
        return None
    trainer = tasks[model.task]
    component = pipeline.components[trainer.component]
    datasets = [
        trainer.inputs.get(port.name) for port in component.inputs if port.type == "Dataset"
    ]
    if len(datasets) == 1 and isinstance(datasets[0], ir.OutputRef):
        return datasets[0]
    return None


def _output_type(pipeline: ir.Pipeline, ref: ir.OutputRef) -> str | None:
    task = tasks_by_name(pipeline)[ref.task].task
    port = pipeline.components[task.component].output(ref.output)
    return port.type if port is not None else None


def _fits(value: Any, type_name: str) -> bool:
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = {"int": int, "str": str, "bool": bool, "list": list, "dict": dict}.get(type_name)
    if expected is None:
        return True
    if expected is int and isinstance(value, bool):
        return False
    return isinstance(value, expected)
