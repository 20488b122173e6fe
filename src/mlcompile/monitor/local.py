"""``mlcompile monitor ENDPOINT``: the local endpoint's requests against its model's baseline.

The local endpoint appends the features of every row it serves to ``monitor/<endpoint>/
requests.jsonl`` in the store. A check takes the rows served by the model version the endpoint
now serves, compares them with the baseline data set of the run that deployed it (the training
data by default), records the result in the lineage database and, when the declaration says
``Retrain`` and a threshold is crossed, runs the pipeline again with the stated parameters; that
run's lineage names the monitoring result that started it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcompile.errors import Diagnostic, ValidationError, did_you_mean
from mlcompile.ir import nodes as ir
from mlcompile.local import registry
from mlcompile.local.lineage import LineageDB
from mlcompile.monitor.compare import Report, compare, read_rows
from mlcompile.monitor.declaration import MonitoredEndpoint, monitored_endpoints


def capture_path(store: Path, endpoint: str) -> Path:
    return store.resolve() / "monitor" / endpoint / "requests.jsonl"


@dataclass
class MonitorOutcome:
    report: Report
    monitoring_id: int
    action: str
    baseline_sha256: str
    retrain_run: str | None = None
    retrain_status: str | None = None
    retrain_params: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.retrain_status in (None, "succeeded"),
            **self.report.to_json(),
            "monitoring_id": self.monitoring_id,
            "baseline_sha256": self.baseline_sha256,
            "on_drift": self.action,
            "retrain": None
            if self.retrain_run is None
            else {
                "run_id": self.retrain_run,
                "status": self.retrain_status,
                "params": self.retrain_params,
            },
        }


def served_rows(store: Path, endpoint: registry.Endpoint) -> list[dict[str, Any]]:
    """The features of every row the endpoint's current model version served."""
    path = capture_path(store, endpoint.name)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if record.get("model") == endpoint.model_name and record.get("version") == endpoint.version:
            rows.append(record["features"])
    return rows


def check_endpoint(
    name: str,
    store: Path,
    *,
    retrain: bool = True,
    as_json: bool = False,
    show: Callable[[MonitorOutcome], None] | None = None,
) -> MonitorOutcome:
    """One monitoring check of a local endpoint, and the retraining run it calls for;
    ``show`` sees the result before that run starts."""
    from mlcompile.loader import load
    from mlcompile.local.runner import run_pipeline
    from mlcompile.params import parse_params

    db = _open(store)
    try:
        endpoint = registry.endpoint(db, name)
        if endpoint is None:
            known = registry.endpoints(db)
            raise _problem(
                f"no endpoint named {name!r} in {store}." + did_you_mean(name, known),
                f"endpoints: {', '.join(known)}" if known else "run a pipeline that deploys one",
            )
        run = db.run(endpoint.run_id)
        assert run is not None  # an endpoint record is written by a run
        spec, root = str(run["spec"]), Path(run["root"])
    finally:
        db.close()
    loaded = load(spec if Path(spec.partition(":")[0]).is_file() else str(root / spec))
    pipeline = loaded.build()
    declared = _declared(pipeline, name)
    db = LineageDB(store / "lineage.db")
    try:
        baseline_sha = _baseline(db, endpoint.run_id, declared)
        baseline = read_rows((store / "artifacts" / baseline_sha).read_text(encoding="utf-8"))
        current = served_rows(store, endpoint)
        report = compare(declared.spec(), baseline, current)
        monitoring_id = db.record_monitoring(
            name,
            endpoint.model_name,
            endpoint.version,
            baseline_sha,
            len(current),
            report.drifted,
            report.to_json(),
        )
    finally:
        db.close()
    outcome = MonitorOutcome(report, monitoring_id, declared.monitor.on_drift.action, baseline_sha)
    if show is not None:
        show(outcome)
    if not (report.drifted and retrain and declared.monitor.on_drift.action == "retrain"):
        return outcome
    from mlcompile.local.progress import reporter_for

    params = parse_params(pipeline, [])
    params.update(declared.retrain_params())
    result = run_pipeline(
        pipeline,
        params,
        root=loaded.root,
        store=store,
        spec=spec,
        reporter=reporter_for(pipeline.name, as_json),
    )
    db = LineageDB(store / "lineage.db")
    try:
        db.link_trigger(result.run_id, monitoring_id)
    finally:
        db.close()
    outcome.retrain_run, outcome.retrain_status = result.run_id, result.status
    outcome.retrain_params = params
    return outcome


def monitor_endpoint(name: str, store: Path, retrain: bool, as_json: bool) -> int:
    """The CLI command: exit 0 after a check (drift or not), 1 when the retraining run failed."""
    from mlcompile.cli import report as cli_report

    outcome = check_endpoint(
        name, store, retrain=retrain, as_json=as_json, show=None if as_json else print_outcome
    )
    if as_json:
        cli_report.print_json(outcome.to_json())
    else:
        print_retrain(outcome)
    return 0 if outcome.retrain_status in (None, "succeeded") else 1


def print_outcome(outcome: MonitorOutcome) -> None:
    from rich.console import Console
    from rich.table import Table

    r = outcome.report
    console = Console(highlight=False, soft_wrap=True)
    table = Table(
        title=f"endpoint {r.endpoint}: {r.current_rows} served rows against {r.baseline_rows}"
        f" baseline rows (sha256:{outcome.baseline_sha256[:12]})",
        title_justify="left",
    )
    for column in ("feature", "kind", "statistic", "value", "p-value", "threshold", "drift"):
        table.add_column(column, no_wrap=True)
    for c in r.checks:
        table.add_row(
            c.feature,
            c.kind,
            c.statistic,
            f"{c.value:.4f}",
            "" if c.pvalue is None else f"{c.pvalue:.3g}",
            f"{c.rule()} {c.threshold:g}",
            "DRIFT" if c.drifted else "ok",
        )
    for s in r.schema:
        table.add_row(
            s.column, "", f"schema: {s.change}", "", "", "", f"{s.baseline} -> {s.current}"
        )
    console.print(table)
    if not r.current_rows:
        console.print("no served rows recorded yet: send requests to `mlcompile serve` first")
    elif not r.drifted:
        console.print(f"no drift (monitoring result {outcome.monitoring_id})")
    else:
        console.print(
            f"drift in {', '.join(r.drifted_features())} (monitoring result"
            f" {outcome.monitoring_id}); on_drift: {outcome.action}"
        )


def print_retrain(outcome: MonitorOutcome) -> None:
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    if outcome.retrain_run is not None:
        params = ", ".join(f"{k}={v}" for k, v in sorted((outcome.retrain_params or {}).items()))
        console.print(
            f"retraining run {outcome.retrain_run} {outcome.retrain_status} ({params});"
            f" its lineage: mlcompile lineage {outcome.retrain_run}"
        )


def _declared(pipeline: ir.Pipeline, name: str) -> MonitoredEndpoint:
    found = {m.endpoint: m for m in monitored_endpoints(pipeline)}
    if name not in found:
        raise _problem(
            f"endpoint {name!r} of pipeline {pipeline.name!r} declares no monitor",
            "add deploy_model(..., monitor=Monitor(features={...}))",
        )
    return found[name]


def _baseline(db: LineageDB, run_id: str, declared: MonitoredEndpoint) -> str:
    """The sha256 of the baseline artifact the deploying run produced (or took from the cache)."""
    ref = declared.baseline
    if ref is not None:
        for step in db.steps_of(run_id):
            if step["task"] != ref.task:
                continue
            for link in db.step_artifacts(int(step["id"]), "out"):
                if link["name"] == ref.output:
                    return str(link["sha256"])
    raise _problem(
        f"the run {run_id} that deployed endpoint {declared.endpoint!r} has no baseline output"
        + (f" {ref.task}.{ref.output}" if ref else ""),
        "run the pipeline again so that the endpoint and its baseline come from one run",
    )


def _open(store: Path) -> LineageDB:
    if not (store / "lineage.db").exists():
        raise _problem(f"{store} holds no local runs", "run a pipeline with `mlcompile run` first")
    return LineageDB(store / "lineage.db")


def _problem(message: str, hint: str) -> ValidationError:
    return ValidationError(Diagnostic("MLC117", message, None, hint))
