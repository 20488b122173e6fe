"""What every emulator shares with the embedded runner: the store, lineage, progress and result.

An emulator walks a compiled spec on worker threads; the lineage database and the display
belong to the main thread (one SQLite connection, one live table). Workers hand the main thread
small calls through the same self-pipe the embedded runner waits on, so Ctrl-C is handled the
same way: the handler only sets a flag, the main thread cancels, kills the step processes and
records what was running as interrupted.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mlcompile.emulate.containers import Container, Containers
from mlcompile.local import sigint
from mlcompile.local.lineage import CachedStep, LineageDB
from mlcompile.local.process import Exit
from mlcompile.local.progress import QuietReporter, Reporter, StepView
from mlcompile.local.runner import RunResult, close_run
from mlcompile.local.store import ArtifactStore, safe_name
from mlcompile.local.values import ArtifactValue
from mlcompile.local.wakeup import Wakeup

T = TypeVar("T")


class Cancelled(Exception):
    """The run was interrupted: a worker stops where it is."""


class EmulationError(Exception):
    """The compiled spec cannot be executed as written: names the step and the reason."""


@dataclass
class Session:
    """One emulated run: its store, lineage records and display, owned by the main thread."""

    pipeline: str
    spec: str
    root: Path
    store_dir: Path
    ir_hash: str
    params: dict[str, Any]
    reporter: Reporter | None = None
    workers: int = 2
    containers: Containers = field(default_factory=lambda: Containers("never"))
    views: dict[str, StepView] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.store = ArtifactStore(self.store_dir)
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        self.cancel = threading.Event()
        self.slots = threading.BoundedSemaphore(max(1, self.workers))
        self._wakeup: Wakeup[tuple[Callable[[], Any], Future[Any]]] = Wakeup()
        self._procs: dict[subprocess.Popen[bytes], str | None] = {}
        self._procs_lock = threading.Lock()
        self._bin_lock = threading.Lock()
        self._main = threading.get_ident()

    # ----- the main thread's loop ----------------------------------------------------------

    def execute(self, body: Callable[[], dict[str, Any]]) -> RunResult:
        """Run ``body`` (the emulator's walk) on a worker and serve its calls until it ends."""
        report = self.reporter or QuietReporter()
        self.report = report
        started = time.monotonic()
        previous = sigint.catch(self._wakeup.interrupt)
        self.db = LineageDB(self.store.root / "lineage.db")
        self.db.start_run(
            self.run_id, self.pipeline, self.spec, str(self.root), self.ir_hash, self.params
        )
        outcome: dict[str, Any] = {}
        errors: list[BaseException] = []
        finished = threading.Event()

        def walk() -> None:
            try:
                outcome.update(body())
            except BaseException as exc:  # handed to the main thread, which reports it
                errors.append(exc)
            finally:
                finished.set()
                self._wakeup.post((lambda: None, Future()))  # wakes the loop to see it

        worker = threading.Thread(target=walk, name="mlc-emulate", daemon=True)
        worker.start()
        status = "interrupted"
        try:
            while not finished.is_set():
                event = self._wakeup.next()
                if event is None:
                    break
                call, future = event
                try:
                    future.set_result(call())
                except BaseException as exc:
                    future.set_exception(exc)
            if not self._wakeup.interrupted:
                worker.join()
                if errors and not isinstance(errors[0], Cancelled):
                    raise errors[0]
                failed = any(v.status in ("failed", "upstream_failed") for v in self.views.values())
                status = "failed" if failed else "succeeded"
        finally:
            interrupted = status == "interrupted"
            if interrupted:
                self.cancel.set()
                self._kill_all()
                worker.join(timeout=30)
                self.db.interrupt_open_steps(self.run_id)
                for name, view in list(self.views.items()):
                    if view.status == "running":
                        self._view(StepView(name, "interrupted", message="interrupted"))
            report.close()
            outputs = {} if interrupted else dict(outcome.get("outputs", {}))
            close_run(self.db, self.store, self.run_id, status, outputs, self.views.values())
            sigint.release(previous)
            self._wakeup.close()
        return RunResult(
            self.run_id,
            self.pipeline,
            self.ir_hash,
            status,
            list(self.views.values()),
            outputs,
            time.monotonic() - started,
            self.store.root,
        )

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the main thread (database, display) and return its result."""
        if self.cancel.is_set():
            raise Cancelled
        if threading.get_ident() == self._main:
            return fn()
        future: Future[T] = Future()
        self._wakeup.post((fn, future))
        while True:
            try:
                return future.result(timeout=0.2)
            except TimeoutError:
                if self.cancel.is_set():
                    raise Cancelled from None

    # ----- records (call these through ``call``) ------------------------------------------

    def start_step(
        self,
        name: str,
        task: str,
        component: str,
        kind: str,
        code: str,
        params: dict[str, Any],
        artifacts: dict[str, ArtifactValue | list[ArtifactValue]],
        key: str | None,
    ) -> int:
        step_id = self.db.start_step(
            self.run_id, name, task, component, kind, code, params, artifacts, key
        )
        self.views[name] = StepView(name, "running")
        self.report.step_started(name)
        return step_id

    def cached(self, key: str) -> CachedStep | None:
        return self.db.cached(key, self.store.path_of)

    def finish_step(
        self,
        step_id: int,
        name: str,
        status: str,
        *,
        attempts: int,
        message: str = "",
        params: dict[str, Any] | None = None,
        artifacts: dict[str, tuple[ArtifactValue, int]] | None = None,
        key: str | None = None,
        seconds: float | None = None,
        cached_from: CachedStep | None = None,
    ) -> None:
        log = self.store.log_path(self.run_id, name)
        self.db.finish_step(
            step_id,
            status,
            attempts=attempts,
            message=message,
            outputs=params,
            artifacts=artifacts,
            log=str(log.relative_to(self.store.root)) if log.exists() else None,
            cache_key=key if status == "done" else None,
            cached_from=cached_from.step_id if cached_from else None,
        )
        run = cached_from.run_id if cached_from else None
        self._view(StepView(name, status, attempts, seconds, message, run))

    def finish_cached(self, step_id: int, name: str, hit: CachedStep) -> None:
        """A step served from the cache: the earlier run's outputs, nothing run."""
        self.finish_step(
            step_id,
            name,
            "done",
            attempts=0,
            message=f"cached from run {hit.run_id}",
            params=hit.params,
            artifacts={n: (a, 0) for n, a in hit.artifacts.items()},
            seconds=0.0,
            cached_from=hit,
        )

    def unrun(self, name: str, task: str, component: str, status: str, message: str) -> None:
        self.db.record_unrun(self.run_id, name, task, component, status, message)
        self._view(StepView(name, status, message=message))

    def _view(self, view: StepView) -> None:
        self.views[view.name] = view
        self.report.step_settled(view)

    # ----- processes ------------------------------------------------------------------------

    def scratch(self, name: str) -> Path:
        folder = self.store.scratch(self.run_id) / safe_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def host_bin(self) -> Path:
        """A folder whose ``python3`` is this interpreter, standing in for the image's Python
        on the host. A script, not a symlink: a virtualenv's interpreter finds its packages only
        when started by its own path. Written once, whole, before any step can start it (steps
        of a loop ask at the same time)."""
        with self._bin_lock:
            shim = self.scratch("_bin")
            python = shim / "python3"
            if not python.exists():
                partial = shim / ".python3.partial"
                partial.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
                partial.chmod(0o755)
                partial.replace(python)
            return shim

    def log_path(self, name: str) -> Path:
        return self.store.log_path(self.run_id, name)

    def run_process(
        self,
        argv: list[str],
        *,
        env: dict[str, str],
        cwd: Path,
        log: Path,
        timeout: float | None = None,
        container: Container | None = None,
    ) -> Exit:
        """One step process in its own process group, at most ``workers`` at a time; with
        ``container``, the process is the container runtime running the job in its image."""
        name = None
        if container is not None:
            name = f"mlc-{self.run_id}-{secrets.token_hex(4)}"
            argv = self.containers.argv(name, container)
            env = dict(os.environ)  # the runtime's own settings; the job's are in its argv
        with self.slots:
            if self.cancel.is_set():
                raise Cancelled
            with log.open("ab") as out:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                with self._procs_lock:
                    self._procs[proc] = name
                    if self.cancel.is_set():  # stopped while it started: _kill_all missed it
                        self._kill(proc, name)
                try:
                    code = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._kill(proc, name)
                    return Exit(proc.wait(), timed_out=True)
                finally:
                    with self._procs_lock:
                        self._procs.pop(proc, None)
        if self.cancel.is_set():
            raise Cancelled
        return Exit(code)

    def _kill_all(self) -> None:
        with self._procs_lock:
            procs = list(self._procs.items())
        for proc, name in procs:
            self._kill(proc, name)

    def _kill(self, proc: subprocess.Popen[bytes], container: str | None) -> None:
        _killpg(proc)
        if container is not None:  # the runtime's client is gone; its container is not
            self.containers.remove(container)

    def record_image(self, step_id: int, image: str) -> None:
        """The image a step ran in, known once its job starts (call through ``call``)."""
        self.db.set_image(step_id, image)

    def sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise Cancelled


def _killpg(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
