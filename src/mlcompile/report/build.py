"""The build report: one page showing a pipeline's DAG and, for each profile, how every feature
is mapped, lowered or refused, each step's images, resources, retries and caching, the
compile's warnings, the files written with their digests, the IR hash and the stack's resources.

``compile`` writes it as ``report.html`` into every build folder (one profile); ``mlcompile
report`` puts several profiles side by side. The page depends only on the IR, the profiles and
the compiled files, so the same build gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlcompile.errors import Diagnostic
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import content_hash
from mlcompile.profiles import Profile
from mlcompile.report.graph import Graph, Leaf, build_graph
from mlcompile.report.html import anchor, badge, esc, page, table
from mlcompile.report.mapping import MappingRow, mapping_table, step_mapping, worst
from mlcompile.report.svg import draw


@dataclass
class Target:
    """What one profile made of the pipeline."""

    profile: Profile
    mapping: list[MappingRow]
    diagnostics: list[Diagnostic]
    #: Relative path to sha256 of each compiled file; None when errors stopped the compile.
    files: dict[str, str] | None = None
    spec: str | None = None
    stack: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def target_of(
    pipeline: ir.Pipeline,
    profile: Profile,
    diagnostics: list[Diagnostic],
    files: Mapping[str, str] | None,
    spec: str | None,
) -> Target:
    """A target from a compile's results, with the mapping table and the stack it needs."""
    from mlcompile.errors import UserError
    from mlcompile.infra.requirements import derive

    try:
        stack: dict[str, Any] | None = derive(pipeline, profile).to_json()
    except UserError:
        stack = None
    return Target(
        profile,
        mapping_table(pipeline, profile),
        sorted(diagnostics, key=Diagnostic.sort_key),
        dict(sorted(files.items())) if files is not None else None,
        spec,
        stack,
    )


def render(pipeline: ir.Pipeline, targets: list[Target]) -> bytes:
    graph = build_graph(pipeline)
    status = _node_status(graph, targets)
    body = [
        _header(pipeline, targets),
        "<h2>DAG</h2>",
        '<p class="muted">Coloured by the least portable mapping of each step across the profiles'
        " shown: green mapped, amber lowered, red refused. Click a step for its details.</p>",
        f'<div class="scroll">{draw(graph, status, _titles(graph, targets))}</div>',
        _portability(targets),
        _diagnostics(targets),
        _steps(graph, targets),
        _builds(targets),
    ]
    names = ", ".join(t.profile.name for t in targets)
    return page(f"{pipeline.name}: build report ({names})", body)


def _node_status(graph: Graph, targets: list[Target]) -> dict[str, str]:
    status: dict[str, str] = {}
    for leaf in graph.leaves():
        status[leaf.id] = worst(
            [r["status"] for t in targets for r in step_mapping(t.mapping, leaf.task.name)]
        )
    for group in graph.groups():
        where = group.task.name if group.task is not None else group.id.rsplit("/", 1)[-1]
        rows = [r["status"] for t in targets for r in step_mapping(t.mapping, where)]
        if rows:
            status[group.id] = worst(rows)
    return status


def _titles(graph: Graph, targets: list[Target]) -> dict[str, str]:
    out = {}
    for leaf in graph.leaves():
        lines = [leaf.id]
        for t in targets:
            for row in step_mapping(t.mapping, leaf.task.name):
                if row["status"] != "mapped":
                    lines.append(f"{t.profile.name}: {row['title']} {row['status']}")
        out[leaf.id] = "\n".join(lines)
    return out


def _header(pipeline: ir.Pipeline, targets: list[Target]) -> str:
    steps = sum(1 for _ in build_graph(pipeline).leaves())
    rows = [
        ["IR hash", f"<code>{esc(content_hash(pipeline))}</code>"],
        ["steps", esc(steps)],
        ["profiles", esc(", ".join(f"{t.profile.name} ({t.profile.platform})" for t in targets))],
    ]
    if pipeline.schedule is not None:
        rows.append(
            [
                "schedule",
                f"<code>{esc(pipeline.schedule.cron)}</code> {esc(pipeline.schedule.timezone)}",
            ]
        )
    for path, source in sorted(pipeline.sources.items()):
        rows.append(
            ["source", f"<code>{esc(path)}</code> sha256:<code>{esc(source.sha256)}</code>"]
        )
    params = table(
        ["parameter", "type", "default"],
        (
            [
                f"<code>{esc(p.name)}</code>",
                esc(p.type),
                f"<code>{esc(json.dumps(p.default))}</code>" if p.has_default else "required",
            ]
            for p in pipeline.parameters
        ),
    )
    return (
        f"<h1>{esc(pipeline.name)}</h1>"
        + (f"<p>{esc(pipeline.description)}</p>" if pipeline.description else "")
        + table(["", ""], rows)
        + ("<h3>Parameters</h3>" + params if pipeline.parameters else "")
    )


def _portability(targets: list[Target]) -> str:
    features: dict[str, tuple[str, list[str]]] = {}
    for t in targets:
        for row in t.mapping:
            features.setdefault(row["feature"], (row["title"], row["used_by"]))
    rows = []
    for feature, (title, used_by) in features.items():
        cells = [esc(title), esc(", ".join(used_by))]
        for t in targets:
            found = next((r for r in t.mapping if r["feature"] == feature), None)
            if found is None:
                cells.append("")
                continue
            note = f'<div class="muted">{esc(found["note"])}</div>' if found["note"] else ""
            cells.append(badge(found["status"]) + note)
        rows.append(cells)
    headers = ["feature", "used by", *(t.profile.name for t in targets)]
    return "<h2>Portability</h2>" + table(headers, rows, "portability")


def _diagnostics(targets: list[Target]) -> str:
    out = ["<h2>Warnings and errors of the compile</h2>"]
    for t in targets:
        out.append(f"<h3>{esc(t.profile.name)}</h3>")
        if not t.diagnostics:
            out.append('<p class="muted">none</p>')
        for d in t.diagnostics:
            where = f"{d.location.file}:{d.location.line}: " if d.location else ""
            hint = f"<br><span class=muted>hint: {esc(d.hint)}</span>" if d.hint else ""
            out.append(
                f'<div class="warning diagnostic" data-code="{esc(d.code)}">'
                f"<code>{esc(where)}{esc(d.severity)} {esc(d.code)} [{esc(d.rule)}]</code> "
                f"{esc(d.message)}{hint}</div>"
            )
    return "".join(out)


def _steps(graph: Graph, targets: list[Target]) -> str:
    out = ["<h2>Steps</h2>"]
    for leaf in graph.leaves():
        out.append(_step(leaf, targets))
    return "".join(out)


def _step(leaf: Leaf, targets: list[Target]) -> str:
    task, component, o = leaf.task, leaf.component, leaf.task.options
    facts = [
        ["kind", esc(leaf.kind)],
        ["defined at", f"<code>{esc(task.location.file)}:{task.location.line}</code>"],
    ]
    if component.function is not None:
        facts.append(
            [
                "code",
                f"<code>{esc(component.function.file)}:{esc(component.function.function)}</code>"
                f" sha256:<code>{esc(component.function.sha256[:16])}</code>",
            ]
        )
    for t in targets:
        facts.append([f"image ({esc(t.profile.name)})", _image(leaf, t.profile)])
    facts += [
        ["resources", esc(_resources(o.resources))],
        ["retries", esc(_retries(o.retry))],
        ["caching", "on" if o.cache else "off (cache=False)"],
        ["timeout", esc(f"{o.timeout_seconds}s") if o.timeout_seconds else "none"],
    ]
    if o.packages:
        facts.append(["packages", f"<code>{esc(' '.join(o.packages))}</code>"])
    if o.secrets:
        facts.append(
            [
                "secrets",
                esc(", ".join(f"{_value(s.name)} as ${s.env}" for s in o.secrets)),
            ]
        )
    if o.env:
        facts.append(["environment", f"<code>{esc(', '.join(sorted(o.env)))}</code>"])
    if task.after:
        facts.append(["after", esc(", ".join(task.after))])
    inputs = [
        [f"<code>{esc(name)}</code>", f"<code>{esc(_value(value))}</code>"]
        for name, value in sorted(task.inputs.items())
    ]
    mapping_rows = []
    for t in targets:
        for row in step_mapping(t.mapping, task.name):
            mapping_rows.append(
                [esc(t.profile.name), esc(row["title"]), badge(row["status"]), esc(row["note"])]
            )
    return (
        f'<section class="step-detail" id="{anchor("step", leaf.id)}" data-step="{esc(leaf.id)}">'
        f"<h3>{esc(leaf.id)}</h3><div class=cols><div>"
        + table(["", ""], facts)
        + "</div><div>"
        + (table(["input", "from"], inputs) if inputs else "")
        + table(["profile", "feature", "status", "note"], mapping_rows, "step-mapping")
        + "</div></div></section>"
    )


def _image(leaf: Leaf, profile: Profile) -> str:
    c, o = leaf.component, leaf.task.options
    if c.builtin is not None:
        return '<span class="muted">the platform\'s own service</span>'
    if isinstance(o.image, ir.ParamRef):
        return f'<span class="muted">chosen by the run: parameter</span> <code>{esc(o.image.name)}</code>'
    image = o.image or (c.container.image if c.container is not None else profile.default_image)
    if image is None:  # the profile leaves it to the platform: its managed default image
        return '<span class="muted">the platform\'s default image</span>'
    name, _, digest = image.partition("@")
    pinned = (
        f" digest <code>{esc(digest)}</code>"
        if digest
        else ' <span class="muted">(a tag, not pinned by digest)</span>'
    )
    return f"<code>{esc(name)}</code>{pinned}"


def _resources(r: ir.Resources) -> str:
    parts = []
    if r.cpu:
        parts.append(f"cpu {r.cpu:g}" + (f" (limit {r.cpu_limit:g})" if r.cpu_limit else ""))
    if r.memory_bytes:
        limit = r.memory_limit_bytes
        parts.append(
            f"memory {_bytes(r.memory_bytes)}" + (f" (limit {_bytes(limit)})" if limit else "")
        )
    if r.gpu:
        parts.append(f"gpu {r.gpu}" + (f" {r.gpu_type}" if r.gpu_type else ""))
    if r.disk_bytes:
        parts.append(f"disk {_bytes(r.disk_bytes)}")
    return ", ".join(parts) or "platform default"


def _bytes(n: int) -> str:
    for unit, size in (("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return f"{n}B"


def _retries(r: ir.Retry) -> str:
    if not r.count:
        return "none"
    parts = [f"{r.count} retr{'y' if r.count == 1 else 'ies'}"]
    if r.backoff_seconds is not None:
        parts.append(f"backoff {r.backoff_seconds}s")
    if r.backoff_factor is not None:
        parts.append(f"factor {r.backoff_factor:g}")
    if r.max_backoff_seconds is not None:
        parts.append(f"at most {r.max_backoff_seconds}s")
    return ", ".join(parts)


def _value(value: ir.Value | ir.Literal | ir.ParamRef) -> str:
    from mlcompile.ir.describe import value_text

    if isinstance(value, ir.TemplateRef):
        return (
            "f'"
            + "".join(p if isinstance(p, str) else "{" + value_text(p) + "}" for p in value.parts)
            + "'"
        )
    if isinstance(value, ir.ParamRef):
        return f"parameter {value.name}"
    if isinstance(value, ir.Literal):
        return json.dumps(value.value, sort_keys=True)
    return value_text(value)


def _builds(targets: list[Target]) -> str:
    out = ["<h2>Builds and stacks</h2>"]
    for t in targets:
        p = t.profile
        out.append(f'<h3 id="{anchor("profile", p.name)}">{esc(p.name)}</h3>')
        out.append(
            table(
                ["", ""],
                [
                    ["platform", esc(p.platform)],
                    ["cloud", esc(f"{p.cloud} {p.region} account {p.account}")],
                    ["environment", esc(p.environment)],
                    ["profile hash", f"<code>{esc(p.content_hash())}</code>"],
                ],
            )
        )
        if t.files is None:
            out.append('<p class="muted">not compiled: the errors above stop it.</p>')
        else:
            out.append(
                table(
                    ["file", "sha256"],
                    (
                        [
                            f"<code>{esc(rel)}</code>" + (" (spec)" if rel == t.spec else ""),
                            f"<code>{esc(sha)}</code>",
                        ]
                        for rel, sha in t.files.items()
                    ),
                )
            )
        if t.stack is not None:
            out.append("<h3>Stack resources</h3>")
            out.append(
                table(
                    ["resource", "name"],
                    ([esc(k), f"<code>{esc(_compact(v))}</code>"] for k, v in t.stack.items()),
                    "stack",
                )
            )
    return "".join(out)


def _compact(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
