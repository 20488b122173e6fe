"""What a person sees while a run goes: a live table on a terminal, one line per step in a log,
nothing with ``--json``; and the summary table at the end."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from mlcompile.local.values import as_text

if TYPE_CHECKING:
    from mlcompile.local.runner import RunResult


@dataclass(frozen=True)
class StepView:
    """A step as the display and the summary show it."""

    name: str
    status: str
    attempts: int = 0
    seconds: float | None = None
    message: str = ""
    cached_from: str | None = None

    @property
    def label(self) -> str:
        return "cached" if self.cached_from else self.status


class Reporter(Protocol):
    def step_started(self, name: str) -> None: ...

    def step_settled(self, view: StepView) -> None: ...

    def close(self) -> None: ...


#: Longer notes go below the summary table, whole.
_NOTE_WIDTH = 36

_STYLE = {
    "done": "green",
    "cached": "cyan",
    "failed": "bold red",
    "upstream_failed": "red",
    "skipped": "dim",
    "interrupted": "yellow",
    "running": "blue",
}
_MARK = {
    "done": "✓",
    "cached": "↺",
    "failed": "✗",
    "upstream_failed": "⊘",
    "skipped": "-",
    "interrupted": "!",
}


class QuietReporter:
    """For ``--json``: the JSON document is the only output."""

    def step_started(self, name: str) -> None:
        pass

    def step_settled(self, view: StepView) -> None:
        pass

    def close(self) -> None:
        pass


class LineReporter:
    """One line per finished step on stderr, for logs and terminals that are not interactive."""

    def __init__(self) -> None:
        self.console = Console(file=sys.stderr, highlight=False, soft_wrap=True)

    def step_started(self, name: str) -> None:
        pass

    def step_settled(self, view: StepView) -> None:
        took = f" {view.seconds:.2f}s" if view.seconds is not None else ""
        first_line = view.message.splitlines()[0] if view.message else ""
        note = f"  {first_line}" if first_line and view.label != "done" else ""
        mark = _MARK.get(view.label, "?")
        self.console.print(
            f"[{_STYLE.get(view.label, '')}]{mark} {view.name}[/] {view.label}{took}{note}",
            markup=True,
        )

    def close(self) -> None:
        pass


class LiveReporter:
    """A live table of running and finished steps, redrawn in place on a terminal."""

    def __init__(self, title: str) -> None:
        self.title = title
        self._lock = threading.Lock()
        self._started: dict[str, float] = {}
        self._settled: list[StepView] = []
        self._live = Live(
            get_renderable=self._render,
            console=Console(file=sys.stderr),
            refresh_per_second=8,
            transient=True,
        )
        self._live.start()

    def step_started(self, name: str) -> None:
        with self._lock:
            self._started[name] = time.monotonic()

    def step_settled(self, view: StepView) -> None:
        with self._lock:
            self._started.pop(view.name, None)
            self._settled.append(view)

    def close(self) -> None:
        self._live.stop()

    def _render(self) -> RenderableType:
        with self._lock:
            table = Table.grid(padding=(0, 2))
            for view in self._settled[-15:]:
                took = f"{view.seconds:.2f}s" if view.seconds is not None else ""
                table.add_row(
                    Text(_MARK.get(view.label, "?"), style=_STYLE.get(view.label, "")),
                    view.name,
                    Text(view.label, style=_STYLE.get(view.label, "")),
                    took,
                )
            now = time.monotonic()
            for name, since in self._started.items():
                table.add_row(
                    Spinner("dots"), name, Text("running", style="blue"), f"{now - since:.1f}s"
                )
            done = len(self._settled)
            header = Text(
                f"{self.title}: {done} settled, {len(self._started)} running", style="bold"
            )
            return Group(header, table)


def reporter_for(title: str, as_json: bool) -> Reporter:
    if as_json:
        return QuietReporter()
    if sys.stderr.isatty():
        return LiveReporter(title)
    return LineReporter()


def print_summary(result: RunResult) -> None:
    """The table at the end of a run, on stdout."""
    console = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"{result.pipeline} run {result.run_id}", title_justify="left")
    for column in ("step", "status", "attempts", "time"):
        table.add_column(column)
    table.add_column("note", overflow="fold")
    below = []  # whole messages: a command to copy or a traceback is never cut to fit a cell
    for view in result.steps:
        note = view.message.splitlines()[0] if view.message else ""
        if view.cached_from:
            note = f"from run {view.cached_from}"
        elif view.status == "failed" or len(note) > _NOTE_WIDTH or "\n" in view.message:
            below.append(view)
            note = "see below"
        table.add_row(
            view.name,
            Text(view.label, style=_STYLE.get(view.label, "")),
            str(view.attempts) if view.attempts else "",
            f"{view.seconds:.2f}s" if view.seconds is not None else "",
            note,
        )
    console.print(table)
    for view in below:
        style = "bold red" if view.status == "failed" else "bold"
        console.print(f"[{style}]{view.name}[/] {view.label}: ", end="")
        console.print(view.message, markup=False, highlight=False)
    for name, text in ((k, as_text(v)) for k, v in result.outputs.items()):
        console.print(f"output {name} = {text}")
    cached = sum(1 for v in result.steps if v.cached_from)
    style = "green" if result.ok else "bold red"
    console.print(
        f"[{style}]{result.status}[/] in {result.seconds:.2f}s"
        + (f", {cached} step(s) from the cache" if cached else "")
        + f"; store {result.store}"
    )
