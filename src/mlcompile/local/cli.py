"""The local commands: ``run``, ``runs``, ``lineage`` and ``serve``.

``run`` exits 0 when every step succeeded, 1 when a step failed (the run's outcome, not a
mistake in the command line, which exits 2), and 130 when interrupted.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from mlcompile.cli import report
from mlcompile.errors import Diagnostic, ValidationError, did_you_mean
from mlcompile.local import registry
from mlcompile.local.lineage import LineageDB, trace_artifact, trace_run
from mlcompile.local.values import as_text
from mlcompile.params import parse_params

if TYPE_CHECKING:
    from mlcompile.local.runner import RunResult

_MODEL_REF = re.compile(r"^model:([a-z][a-z0-9-]*)(?::(\d+))?$")


def run_local(spec: str, params: list[str], store: Path, workers: int, as_json: bool) -> int:
    from mlcompile.build import ensure_store
    from mlcompile.loader import load
    from mlcompile.local import sigint
    from mlcompile.local.progress import reporter_for
    from mlcompile.local.runner import run_pipeline

    ensure_store(store)
    loaded = load(spec)
    report.project_root = loaded.root
    pipeline = loaded.build()
    values = parse_params(pipeline, params)
    if workers < 1:
        raise ValidationError(
            Diagnostic(
                "MLC117",
                f"--workers {workers} is not a positive number",
                None,
                "give --workers 1 or more",
            )
        )
    sigint.ignore_after_runs()  # this process reports the run as recorded, then exits
    result = run_pipeline(
        pipeline,
        values,
        root=loaded.root,
        store=store,
        spec=spec,
        workers=workers,
        reporter=reporter_for(pipeline.name, as_json),
    )
    return finish_run(result, as_json)


def finish_run(result: RunResult, as_json: bool) -> int:
    """The summary (or JSON) of a finished run, and its exit code: 0, 1 failed, 130 interrupted."""
    from mlcompile.local.progress import print_summary

    if as_json:
        report.print_json(result.to_json())
    else:
        print_summary(result)
    if result.status == "interrupted":
        raise KeyboardInterrupt
    return 0 if result.ok else 1


def list_runs(store: Path, as_json: bool) -> int:
    db = _open(store)
    try:
        rows = db.runs()
    finally:
        db.close()
    runs = [
        {
            "run_id": r["id"],
            "pipeline": r["pipeline"],
            "status": r["status"],
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["started"])),
            "seconds": round(r["finished"] - r["started"], 2) if r["finished"] else None,
            "ran": r["ran"],
            "cached": r["cached"],
            "failed": r["failed"],
            "ir_hash": r["ir_hash"],
            "params": json.loads(r["params"]),
        }
        for r in rows
    ]
    if as_json:
        report.print_json({"ok": True, "store": str(store), "runs": runs})
        return 0
    # Fits 80 columns: the run id already says when it started; the IR hash is in --json.
    table = Table(title=f"runs in {store}", title_justify="left", box=None, pad_edge=False)
    for column in ("run", "pipeline", "status", "took", "steps"):
        table.add_column(column, no_wrap=column != "pipeline", overflow="fold")
    for run in runs:
        took = f"{run['seconds']:.2f}s" if run["seconds"] is not None else ""
        counts = [(run["ran"], "ran"), (run["cached"], "cached"), (run["failed"], "failed")]
        steps = ", ".join(f"{n} {what}" for n, what in counts if n) or "none"
        table.add_row(run["run_id"], run["pipeline"], run["status"], took, steps)
    Console(highlight=False).print(table if runs else f"no runs in {store}")
    return 0


def run_page(run_id: str | None, store: Path, out: Path | None, as_json: bool) -> int:
    """Write the HTML page of one run (its DAG by status, timeline, parameters, lineage)."""
    from mlcompile.build import write_files
    from mlcompile.report.run import render_run

    if run_id is None:
        raise ValidationError(
            Diagnostic(
                "MLC902",
                "--html draws one run, and no run id was given",
                None,
                "give the run: `mlcompile runs RUN --html`; `mlcompile runs` lists them",
            )
        )
    db = _open(store)
    try:
        run = db.run(run_id)
        if run is None:
            known = [r["id"] for r in db.runs()]
            raise ValidationError(
                Diagnostic(
                    "MLC901",
                    f"no run {run_id!r} in {store}." + did_you_mean(run_id, known),
                    None,
                    "list the runs with `mlcompile runs`",
                )
            )
        data = render_run(db, run_id, _definition(store, run))
    finally:
        db.close()
    path = out or store / "reports" / f"{run_id}.html"
    write_files(path.parent, {path.name: data})
    if as_json:
        report.print_json({"ok": True, "run_id": run_id, "out": path.as_posix()})
    else:
        print(f"wrote the page of run {run_id} to {path.as_posix()}")
    return 0


def _definition(store: Path, run: Any) -> Any:
    """The IR the run ran: kept in the store by its hash, else the pipeline file if unchanged."""
    from mlcompile.ir import nodes as ir
    from mlcompile.ir.canonical import content_hash
    from mlcompile.local.store import ArtifactStore

    text = ArtifactStore(store).definition(run["ir_hash"])
    if text is not None:
        return ir.Pipeline.model_validate_json(text)
    try:
        from mlcompile.loader import load

        pipeline = load(run["spec"]).build()
    except Exception:  # the file moved or broke since: draw the run without its DAG
        return None
    return pipeline if content_hash(pipeline) == run["ir_hash"] else None


def show_lineage(ref: str, store: Path, as_json: bool) -> int:
    db = _open(store)
    try:
        data = _lineage(db, ref)
    finally:
        db.close()
    if as_json:
        report.print_json({"ok": True, **data})
        return 0
    console = Console(highlight=False, soft_wrap=True)
    if data["kind"] == "run":
        _print_run(console, data["run"])
    else:
        print(data["title"])
        _print_artifact(data["artifact"], "", "  ")
    return 0


def serve_endpoint(endpoint: str, store: Path, port: int, as_json: bool = False) -> int:
    from mlcompile.local.serving import ModelServer

    db = _open(store)
    try:
        found = registry.endpoint(db, endpoint)
        known = registry.endpoints(db)
    finally:
        db.close()
    if found is None:
        raise ValidationError(
            Diagnostic(
                "MLC117",
                f"no endpoint named {endpoint!r} in {store}." + did_you_mean(endpoint, known),
                None,
                f"endpoints: {', '.join(known)}"
                if known
                else "run a pipeline that calls deploy_model() first",
            )
        )
    from mlcompile.monitor.local import capture_path

    model_path = store.resolve() / "artifacts" / found.model_sha256
    server = ModelServer(port, found, model_path, capture_path(store, found.name))
    if as_json:  # one line a script can read the address from before it sends requests
        print(
            json.dumps(
                {
                    "ok": True,
                    "endpoint": found.name,
                    "model": found.model_name,
                    "version": found.version,
                    "url": f"{server.url}/predict",
                },
                sort_keys=True,
            ),
            flush=True,
        )
    else:
        print(
            f"serving endpoint {found.name} (model {found.model_name} v{found.version}) on"
            f" {server.url}/predict  (Ctrl-C stops)",
            flush=True,
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _open(store: Path) -> LineageDB:
    if not (store / "lineage.db").exists():
        raise ValidationError(
            Diagnostic(
                "MLC117",
                f"{store} holds no local runs",
                None,
                "run a pipeline with `mlcompile run PIPELINE`, or give --store DIR",
            )
        )
    return LineageDB(store / "lineage.db")


def _lineage(db: LineageDB, ref: str) -> dict[str, Any]:
    match = _MODEL_REF.match(ref)
    if match:
        name, number = match.group(1), match.group(2)
        version = registry.model(db, name, int(number) if number else None)
        if version is None:
            raise ValidationError(
                Diagnostic(
                    "MLC117",
                    f"no registered model {ref!r}",
                    None,
                    "use model:<name> for the latest version or model:<name>:<version>",
                )
            )
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(version.metrics.items()))
        return {
            "kind": "model",
            "model": {
                "name": version.name,
                "version": version.version,
                "approval": version.approval,
                "framework": version.framework,
                "metrics": version.metrics,
                "registered_by_run": version.run_id,
                "card_sha256": registry.card_sha(db, version),
            },
            "title": f"model {version.name} v{version.version} ({version.approval}),"
            f" registered by run {version.run_id}" + (f"\n  metrics: {metrics}" if metrics else ""),
            "artifact": trace_artifact(db, version.model_sha256),
        }
    run = trace_run(db, ref)
    if run is not None:
        return {"kind": "run", "run": run}
    artifact = db.artifact(ref.removeprefix("sha256:"))
    if artifact is None:
        raise ValidationError(
            Diagnostic(
                "MLC117",
                f"{ref!r} is not a run id, an artifact sha256 or URI, or a registered model",
                None,
                "list runs with `mlcompile runs`; models are named model:<name>[:<version>]",
            )
        )
    return {
        "kind": "artifact",
        "title": f"artifact {artifact['sha256'][:16]}",
        "artifact": trace_artifact(db, artifact["sha256"]),
    }


def _print_artifact(node: dict[str, Any], label: str, indent: str) -> None:
    """One artifact, then the step that made it and, below, what that step read."""
    name = f"{label}: " if label else ""
    print(f"{indent}{name}{node.get('type', 'artifact')} sha256:{node['sha256']}")
    print(f"{indent}    {node.get('uri', '')}")
    step = node.get("produced_by")
    if step is None:
        print(f"{indent}    (not produced by a step in this store)")
        return
    print(
        f"{indent}  <- {step['step']} in run {step['run_id']} (pipeline {step['pipeline']},"
        f" IR {str(step['ir_hash'])[:12]}), code sha256:{str(step['code_sha256'])[:16]}"
    )
    params = ", ".join(f"{k}={as_text(v)}" for k, v in sorted(step["params"].items()))
    if params:
        print(f"{indent}     params: {params}")
    for port, artifacts in sorted(step["inputs"].items()):
        for artifact in artifacts:
            _print_artifact(artifact, port, indent + "     ")


def _print_run(console: Console, run: dict[str, Any]) -> None:
    params = ", ".join(f"{k}={as_text(v)}" for k, v in sorted(run["params"].items()))
    console.print(
        f"run {run['run_id']}: {run['pipeline']} {run['status']}  IR {run['ir_hash'][:12]}  params: {params}"
    )
    trigger = run.get("triggered_by")
    if trigger:
        console.print(
            f"  triggered by monitoring result {trigger['monitoring_id']} of endpoint"
            f" {trigger['endpoint']} ({trigger['model']} v{trigger['version']}): drift in"
            f" {', '.join(trigger['drifted_features'])} over {trigger['rows']} served rows"
        )
    table = Table()
    for column in ("step", "status", "code", "params", "reads", "writes"):
        table.add_column(column)
    for step in run["steps"]:
        status = step["status"] + (
            f" (cached, run {step['cached_from_run']})" if step["cached_from_run"] else ""
        )
        table.add_row(
            step["step"],
            status,
            str(step["code_sha256"] or "")[:12],
            ", ".join(f"{k}={as_text(v)}" for k, v in sorted(step["params"].items())),
            _shas(step["inputs"]),
            _shas(step["outputs"]),
        )
    console.print(table)


def _shas(links: dict[str, list[str]]) -> str:
    return ", ".join(f"{k}:{','.join(s[:10] for s in v)}" for k, v in sorted(links.items()))
