"""Drawing a laid-out DAG as inline SVG: one ``<g class="step">`` per step, carrying its status,
linked to the step's section of the page."""

from __future__ import annotations

from collections.abc import Mapping

from mlcompile.report.graph import Box, Graph, Layout, layout
from mlcompile.report.html import anchor, esc


def draw(
    graph: Graph,
    status: Mapping[str, str],
    titles: Mapping[str, str] | None = None,
    *,
    subtitle: Mapping[str, str] | None = None,
) -> str:
    """The SVG of ``graph``; ``status`` by step or box id picks each one's colour class."""
    titles = titles or {}
    subtitle = subtitle or {}
    placed = layout(graph)
    parts = [
        f'<svg class="dag" role="img" '
        f'width="{placed.width}" height="{placed.height}" '
        f'viewBox="0 0 {placed.width} {placed.height}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>',
    ]
    groups = {g.id: g for g in graph.groups()}
    for gid, box in placed.groups.items():
        group = groups[gid]
        state = status.get(gid, "")
        attrs = f' data-status="{esc(state)}"' if state else ""
        parts.append(
            f'<g class="group g-{group.kind} s-{esc(state or "none")}" data-group="{esc(gid)}"{attrs}>'
            f"<title>{esc(titles.get(gid, group.label))}</title>"
            f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="8"/>'
            f'<text x="{box.x + 10}" y="{box.y + 16}">{esc(group.label)}</text></g>'
        )
    parts.append(_edges(placed))
    for leaf in graph.leaves():
        box = placed.leaves[leaf.id]
        state = status.get(leaf.id, "")
        sub = subtitle.get(leaf.id, leaf.kind)
        parts.append(
            f'<a href="#{anchor("step", leaf.id)}"><g class="step s-{esc(state or "none")}" '
            f'data-step="{esc(leaf.id)}" data-status="{esc(state)}">'
            f"<title>{esc(titles.get(leaf.id, leaf.id))}</title>"
            f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="6"/>'
            f'<text x="{box.x + box.w // 2}" y="{box.y + 18}" text-anchor="middle">{esc(leaf.id)}</text>'
            f'<text class="sub" x="{box.x + box.w // 2}" y="{box.y + 34}" text-anchor="middle">'
            f"{esc(sub)}</text></g></a>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _edges(placed: Layout) -> str:
    boxes: dict[str, Box] = {**placed.groups, **placed.leaves}
    paths = []
    for a, b in placed.edges:
        if a not in boxes or b not in boxes:
            continue
        src, dst = boxes[a], boxes[b]
        x1, y1 = src.x + src.w // 2, src.y + src.h
        x2, y2 = dst.x + dst.w // 2, dst.y
        if y2 <= y1:  # a box reading a step drawn inside it: enter from the side
            x2, y2 = dst.x, dst.y + 12
        bend = max(16, (y2 - y1) // 2)
        paths.append(
            f'<path class="edge" data-from="{esc(a)}" data-to="{esc(b)}" '
            f'd="M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 - bend} {x2},{y2}" marker-end="url(#arrow)"/>'
        )
    return "".join(paths)
