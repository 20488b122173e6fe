"""The page of one local run: the DAG coloured by what each step did, a timeline of the steps
(start, duration, attempts, cache hits), the parameters, and every artifact the run wrote with
its lineage back to the data, code and parameters it came from.

Everything shown comes from the store's lineage database and the pipeline's IR kept beside it
(by IR hash), so the page can be drawn after the pipeline file has changed; times are in UTC.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.local.lineage import LineageDB, trace_artifact
from mlcompile.local.values import as_text
from mlcompile.report.graph import build_graph
from mlcompile.report.html import anchor, badge, esc, page, table
from mlcompile.report.svg import draw

_ITERATION = re.compile(r"\[\d+\]")
#: When instances of one step (loop iterations) differ, the step shows the most telling status.
_PRIORITY = (
    "failed",
    "interrupted",
    "upstream_failed",
    "running",
    "done",
    "cached",
    "skipped",
)


def step_of(name: str) -> str:
    """The step as written for a step as run: ``fit[2]`` -> ``fit``, ``p[0]/a[1]`` -> ``p/a``."""
    return _ITERATION.sub("", name)


def label(row: sqlite3.Row) -> str:
    return "cached" if row["cached_from"] is not None else str(row["status"])


def render_run(db: LineageDB, run_id: str, pipeline: ir.Pipeline | None) -> bytes:
    run = db.run(run_id)
    assert run is not None
    steps = db.steps_of(run_id)
    body = [_header(run), _parameters(run)]
    if pipeline is not None:
        status, counts = _status(steps)
        graph = build_graph(pipeline)
        for leaf in graph.leaves():
            status.setdefault(leaf.id, "pending")
        subtitle = {
            name: " ".join(f"{k} x{n}" if n > 1 else k for k, n in sorted(c.items()))
            for name, c in counts.items()
        }
        body += [
            "<h2>DAG</h2>",
            '<p class="muted">green done, amber from the cache, red failed, grey skipped or'
            " not reached; a step in a loop shows its iterations.</p>",
            f'<div class="scroll">{draw(graph, status, subtitle=subtitle)}</div>',
        ]
    else:
        body.append(
            '<p class="muted">The pipeline definition of this run is not in the store; the DAG'
            " cannot be drawn.</p>"
        )
    body += [_timeline(run, steps), _steps(run, steps), _artifacts(db, run_id, steps)]
    return page(f"{run['pipeline']} run {run_id}", body)


def _status(steps: list[sqlite3.Row]) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    counts: dict[str, dict[str, int]] = {}
    for row in steps:
        shown = label(row)
        per = counts.setdefault(step_of(row["name"]), {})
        per[shown] = per.get(shown, 0) + 1
    status = {
        name: min(per, key=lambda s: _PRIORITY.index(s) if s in _PRIORITY else len(_PRIORITY))
        for name, per in counts.items()
    }
    return status, counts


def _utc(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def _header(run: sqlite3.Row) -> str:
    took = f"{run['finished'] - run['started']:.2f}s" if run["finished"] else "still running"
    rows = [
        ["run", f"<code>{esc(run['id'])}</code>"],
        ["status", badge(_run_badge(run["status"]), run["status"])],
        ["started", esc(_utc(run["started"]))],
        ["took", esc(took)],
        ["IR hash", f"<code>{esc(run['ir_hash'])}</code>"],
        ["pipeline file", f"<code>{esc(run['spec'])}</code>"],
    ]
    if run["message"]:
        rows.append(["note", esc(run["message"])])
    return f"<h1>{esc(run['pipeline'])} run {esc(run['id'])}</h1>" + table(["", ""], rows)


def _run_badge(status: str) -> str:
    return {"succeeded": "done"}.get(status, status)


def _parameters(run: sqlite3.Row) -> str:
    params = json.loads(run["params"])
    outputs = json.loads(run["outputs"] or "{}")
    out = "<h2>Parameters</h2>" + table(
        ["parameter", "value"],
        (
            [f"<code>{esc(k)}</code>", f"<code>{esc(as_text(v))}</code>"]
            for k, v in sorted(params.items())
        ),
        "parameters",
    )
    if outputs:
        out += "<h3>Outputs</h3>" + table(
            ["output", "value"],
            ([f"<code>{esc(k)}</code>", _value(v)] for k, v in sorted(outputs.items())),
        )
    return out


def _value(value: Any) -> str:
    if isinstance(value, dict) and "sha256" in value:
        sha = str(value["sha256"])
        return f'<a href="#{anchor("artifact", sha)}">{esc(value.get("artifact", "artifact"))} {esc(sha[:16])}</a>'
    return f"<code>{esc(as_text(value))}</code>"


def _timeline(run: sqlite3.Row, steps: list[sqlite3.Row]) -> str:
    origin = float(run["started"])
    ends = [float(s["finished"]) for s in steps if s["finished"]] + [origin + 0.001]
    span = max(max(ends) - origin, 0.001)
    name_w, bar_w, row_h = 260, 560, 22
    height = row_h * len(steps) + 30
    parts = [
        f'<svg class="timeline" role="img" width="{name_w + bar_w + 150}" height="{height}"'
        f' viewBox="0 0 {name_w + bar_w + 150} {height}">'
    ]
    for tick in range(5):
        x = name_w + bar_w * tick // 4
        parts.append(
            f'<line x1="{x}" y1="0" x2="{x}" y2="{height - 16}"/>'
            f'<text x="{x}" y="{height - 4}" text-anchor="middle">{span * tick / 4:.2f}s</text>'
        )
    ordered = sorted(steps, key=lambda s: (s["started"] or origin, s["id"]))
    for i, row in enumerate(ordered):
        y = i * row_h + 4
        start = (row["started"] or origin) - origin
        end = (row["finished"] or row["started"] or origin) - origin
        x = name_w + int(bar_w * start / span)
        w = max(2, int(bar_w * (end - start) / span))
        shown = label(row)
        note = f"{end - start:.2f}s"
        if row["attempts"] and row["attempts"] > 1:
            note += f", {row['attempts']} attempts"
        if shown == "cached":
            note = "cache hit"
        elif shown in ("skipped", "upstream_failed"):
            note = shown.replace("_", " ")
        parts.append(
            f'<g class="span" data-step="{esc(row["name"])}" data-status="{esc(shown)}">'
            f"<title>{esc(row['name'])}: {esc(shown)} {esc(note)}</title>"
            f'<text x="{name_w - 8}" y="{y + 13}" text-anchor="end">{esc(row["name"])}</text>'
            f'<rect class="bar t-{esc(shown)}" x="{x}" y="{y}" width="{w}" height="{row_h - 6}" rx="3"/>'
            f'<text x="{x + w + 6}" y="{y + 13}">{esc(note)}</text></g>'
        )
    parts.append("</svg>")
    return '<h2>Timeline</h2><div class="scroll">' + "".join(parts) + "</div>"


def _steps(run: sqlite3.Row, steps: list[sqlite3.Row]) -> str:
    origin = float(run["started"])
    rows = []
    for row in steps:
        shown = label(row)
        start = f"+{(row['started'] or origin) - origin:.2f}s"
        took = (
            f"{row['finished'] - row['started']:.2f}s" if row["finished"] and row["started"] else ""
        )
        message = f'<pre class="mono">{esc(row["message"])}</pre>' if row["message"] else ""
        log = f"<code>{esc(row['log'])}</code>" if row["log"] else ""
        rows.append(
            [
                f'<span id="{anchor("step", row["name"])}" data-step="{esc(row["name"])}">'
                f"{esc(row['name'])}</span>",
                badge(shown),
                esc(start),
                esc(took),
                esc(row["attempts"] or ""),
                f"<code>{esc(str(row['code_sha256'] or '')[:12])}</code>",
                message,
                log,
            ]
        )
    return "<h2>Steps</h2>" + table(
        ["step", "status", "start", "took", "attempts", "code", "message", "log"], rows, "steps"
    )


def _artifacts(db: LineageDB, run_id: str, steps: list[sqlite3.Row]) -> str:
    out = ["<h2>Artifacts and their lineage</h2>"]
    seen: set[str] = set()
    for row in steps:
        for link in db.step_artifacts(int(row["id"]), "out"):
            sha = str(link["sha256"])
            if sha in seen:
                continue
            seen.add(sha)
            tree = trace_artifact(db, sha)
            out.append(
                f'<section class="artifact" id="{anchor("artifact", sha)}" data-sha256="{esc(sha)}">'
                f"<h3>{esc(link['type'])} {esc(link['name'])} of {esc(row['name'])}</h3>"
                f'<ul class="lineage">{_lineage(tree)}</ul></section>'
            )
    if not seen:
        out.append('<p class="muted">This run wrote no artifacts.</p>')
    return "".join(out)


def _lineage(node: dict[str, Any], port: str = "") -> str:
    sha = str(node["sha256"])
    name = f"{esc(port)}: " if port else ""
    head = (
        f'<li>{name}<a href="#{anchor("artifact", sha)}">{esc(node.get("type", "artifact"))}'
        f" sha256:{esc(sha[:16])}</a> <span class=muted>{esc(node.get('size', ''))} bytes</span>"
    )
    step = node.get("produced_by")
    if step is None:
        return head + " <span class=muted>(not produced by a step in this store)</span></li>"
    params = ", ".join(f"{k}={as_text(v)}" for k, v in sorted(step["params"].items()))
    inner = "".join(
        _lineage(artifact, p)
        for p, artifacts in sorted(step["inputs"].items())
        for artifact in artifacts
    )
    return (
        head + f'<ul class="lineage"><li>made by <b>{esc(step["step"])}</b> in run'
        f" <code>{esc(step['run_id'])}</code>, code sha256:<code>{esc(str(step['code_sha256'] or '')[:16])}</code>"
        + (f", parameters <code>{esc(params)}</code>" if params else "")
        + (f'<ul class="lineage">{inner}</ul>' if inner else "")
        + "</li></ul></li>"
    )
