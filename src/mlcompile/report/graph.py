"""The DAG as the user wrote it, and a deterministic layered layout of it.

Steps are leaves; a ``when()`` (with its ``then`` and ``otherwise`` branches), a ``for_each``
body, a pipeline used as a step and the ``final()`` step are boxes around what they hold. Each
body is laid out on its own, in layers (longest path from its sources), ordered by the mean
position of each unit's predecessors with the source order breaking ties; a box is then placed
in its parent's layout as one unit of its size. Only integers and the IR decide positions, so
the same pipeline gives the same picture on every machine.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from mlcompile.ir import nodes as ir
from mlcompile.ir.describe import condition_text, loop_text
from mlcompile.ir.walk import condition_values, task_refs, upstream_tasks

_CHAR = 7  # px per character of a 12px monospace-ish label
_LEAF_H = 44
_PAD = 12
_HEADER = 22
_GAP_X = 24
_GAP_Y = 40


@dataclass
class Leaf:
    """One step: ``id`` is its name as runs show it (``outer/inner`` inside a nested pipeline)."""

    id: str
    task: ir.Task
    component: ir.Component
    owner: ir.Pipeline

    @property
    def kind(self) -> str:
        c = self.component
        if c.builtin is not None:
            return c.builtin.op
        return "training" if self.task.options.role == "training" else c.kind


@dataclass
class Group:
    """A box: ``kind`` is condition, then, otherwise, loop, pipeline or final."""

    id: str
    kind: str
    label: str
    body: list[Unit]
    #: For a nested pipeline, the step that calls it (its status is the box's).
    task: ir.Task | None = None


Unit = Leaf | Group


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


@dataclass
class Layout:
    width: int
    height: int
    leaves: dict[str, Box] = field(default_factory=dict)
    groups: dict[str, Box] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Graph:
    pipeline: ir.Pipeline
    body: list[Unit]
    edges: list[tuple[str, str]]

    def leaves(self) -> Iterator[Leaf]:
        yield from _leaves(self.body)

    def groups(self) -> Iterator[Group]:
        yield from _groups(self.body)


def build_graph(pipeline: ir.Pipeline) -> Graph:
    edges: list[tuple[str, str]] = []
    body = _frame(pipeline, "", pipeline.sources, edges)
    return Graph(pipeline, body, list(dict.fromkeys(edges)))


def _frame(
    p: ir.Pipeline,
    prefix: str,
    sources: dict[str, ir.SourceFile],
    edges: list[tuple[str, str]],
) -> list[Unit]:
    sources = {**sources, **p.sources}
    units = _body(p, p.body, prefix, sources, edges)
    if p.final is not None:
        leaf = _task(p, p.final, prefix, sources, edges)
        units.append(
            Group(prefix + "final:" + p.final.name, "final", "final (always runs)", [leaf])
        )
    return units


def _body(
    p: ir.Pipeline,
    body: tuple[ir.BodyNode, ...],
    prefix: str,
    sources: dict[str, ir.SourceFile],
    edges: list[tuple[str, str]],
) -> list[Unit]:
    units: list[Unit] = []
    for node in body:
        if isinstance(node, ir.Task):
            units.append(_task(p, node, prefix, sources, edges))
        elif isinstance(node, ir.Condition):
            gid = prefix + node.id
            for value in condition_values(node.condition):
                edges.extend((prefix + t, gid) for t, _ in task_refs(value))
            branches: list[Unit] = [
                Group(gid + ":then", "then", "then", _body(p, node.then, prefix, sources, edges))
            ]
            if node.otherwise is not None:
                branches.append(
                    Group(
                        gid + ":otherwise",
                        "otherwise",
                        "otherwise",
                        _body(p, node.otherwise, prefix, sources, edges),
                    )
                )
            label = f"when {condition_text(sources, node)}"
            units.append(Group(gid, "condition", label, branches))
        else:
            gid = prefix + node.id
            if isinstance(node.items, ir.OutputRef):
                edges.append((prefix + node.items.task, gid))
            label = f"for_each {loop_text(sources, node)}"
            units.append(Group(gid, "loop", label, _body(p, node.body, prefix, sources, edges)))
    return units


def _task(
    p: ir.Pipeline,
    task: ir.Task,
    prefix: str,
    sources: dict[str, ir.SourceFile],
    edges: list[tuple[str, str]],
) -> Unit:
    name = prefix + task.name
    edges.extend((prefix + up, name) for up in sorted(upstream_tasks(task)))
    component = p.components[task.component]
    if component.kind == "pipeline" and component.pipeline is not None:
        inner = _frame(component.pipeline, name + "/", sources, edges)
        label = f"{task.name}: pipeline {component.pipeline.name}"
        return Group(name, "pipeline", label, inner, task)
    return Leaf(name, task, component, p)


def _leaves(units: list[Unit]) -> Iterator[Leaf]:
    for unit in units:
        if isinstance(unit, Leaf):
            yield unit
        else:
            yield from _leaves(unit.body)


def _groups(units: list[Unit]) -> Iterator[Group]:
    for unit in units:
        if isinstance(unit, Group):
            yield unit
            yield from _groups(unit.body)


def _ids(unit: Unit) -> set[str]:
    if isinstance(unit, Leaf):
        return {unit.id}
    found = {unit.id}
    for child in unit.body:
        found |= _ids(child)
    return found


# ----- layout --------------------------------------------------------------------------------

_PlaceFn = Callable[[int, int, Layout], None]


def leaf_width(label: str) -> int:
    return max(120, _CHAR * len(label) + 2 * _PAD)


def layout(graph: Graph) -> Layout:
    """Positions of every leaf and box, and the edges to draw between them."""
    out = Layout(0, 0, edges=list(graph.edges))
    w, h, place = _layout_block(graph.body, graph.edges)
    out.width, out.height = w + 2 * _PAD, h + 2 * _PAD
    place(_PAD, _PAD, out)
    return out


def _layout_block(units: list[Unit], edges: list[tuple[str, str]]) -> tuple[int, int, _PlaceFn]:
    """The size of a body and a function that writes its boxes at an offset."""
    sizes: list[tuple[int, int, _PlaceFn]] = []
    for unit in units:
        sizes.append(_layout_unit(unit, edges))
    owner: dict[str, int] = {}
    for index, unit in enumerate(units):
        for ident in _ids(unit):
            owner[ident] = index
    preds: dict[int, list[int]] = {i: [] for i in range(len(units))}
    for a, b in edges:
        ia, ib = owner.get(a), owner.get(b)
        if ia is not None and ib is not None and ia != ib and ia not in preds[ib]:
            preds[ib].append(ia)
    layer = _layers(len(units), preds)
    rows: dict[int, list[int]] = {}
    for index in range(len(units)):
        rows.setdefault(layer[index], []).append(index)
    order: dict[int, float] = {}
    for depth in sorted(rows):
        row = rows[depth]
        for position, index in enumerate(row):
            order[index] = position
        keyed = []
        for index in row:
            seen = [order[p] for p in preds[index] if p in order and layer[p] < depth]
            mean = sum(seen) / len(seen) if seen else order[index]
            keyed.append((mean, index))
        rows[depth] = [index for _, index in sorted(keyed)]
        for position, index in enumerate(rows[depth]):
            order[index] = position
    row_sizes = []
    for depth in sorted(rows):
        row = rows[depth]
        width = sum(sizes[i][0] for i in row) + _GAP_X * (len(row) - 1)
        height = max(sizes[i][1] for i in row)
        row_sizes.append((depth, width, height))
    total_w = max((w for _, w, _ in row_sizes), default=0)
    total_h = sum(h for _, _, h in row_sizes) + _GAP_Y * max(0, len(row_sizes) - 1)

    def place(x0: int, y0: int, out: Layout) -> None:
        y = y0
        for depth, width, height in row_sizes:
            x = x0 + (total_w - width) // 2
            for index in rows[depth]:
                w, h, inner = sizes[index]
                inner(x, y + (height - h) // 2, out)
                x += w + _GAP_X
            y += height + _GAP_Y

    return total_w, total_h, place


def _layout_unit(unit: Unit, edges: list[tuple[str, str]]) -> tuple[int, int, _PlaceFn]:
    if isinstance(unit, Leaf):
        w, h = leaf_width(unit.id), _LEAF_H

        def place_leaf(x: int, y: int, out: Layout) -> None:
            out.leaves[unit.id] = Box(x, y, w, h)

        return w, h, place_leaf
    inner_w, inner_h, inner = _layout_block(unit.body, edges)
    w = max(inner_w, _CHAR * len(unit.label), 60) + 2 * _PAD
    h = inner_h + _HEADER + 2 * _PAD if unit.body else _HEADER + _PAD

    def place_group(x: int, y: int, out: Layout) -> None:
        out.groups[unit.id] = Box(x, y, w, h)
        inner(x + (w - inner_w) // 2, y + _HEADER + _PAD, out)

    return w, h, place_group


def _layers(count: int, preds: dict[int, list[int]]) -> dict[int, int]:
    """Longest path from a source, in topological order (source order breaks ties); no
    recursion, so a chain of thousands of steps lays out too. A cycle, which validation
    never lets through, is broken at its earliest unit."""
    succs: dict[int, list[int]] = {i: [] for i in range(count)}
    waiting = {i: len(set(preds[i])) for i in range(count)}
    for i in range(count):
        for p in set(preds[i]):
            succs[p].append(i)
    layer = dict.fromkeys(range(count), 0)
    ready = [i for i in range(count) if waiting[i] == 0]
    done: set[int] = set()
    while len(done) < count:
        if not ready:
            ready = [min(i for i in range(count) if i not in done)]
        heapq.heapify(ready)
        while ready:
            i = heapq.heappop(ready)
            if i in done:
                continue
            done.add(i)
            for j in succs[i]:
                layer[j] = max(layer[j], layer[i] + 1)
                waiting[j] -= 1
                if waiting[j] == 0:
                    heapq.heappush(ready, j)
    return layer
