"""Running one step to completion: attempts with retries and backoff, timeouts, and outputs
moved into the store. Runs on a worker thread; touches no database."""

from __future__ import annotations

import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlcompile.ir import nodes as ir
from mlcompile.local.process import Exit, Processes
from mlcompile.local.store import ArtifactStore
from mlcompile.local.values import ArtifactValue, parse_output_file
from mlcompile.runtime.retry import delay

_LOG_TAIL = 12


@dataclass
class StepJob:
    """Everything a worker needs to run a step, resolved by the runner beforehand."""

    name: str
    kind: Literal["python", "command"]
    spec: dict[str, Any]
    outputs: dict[str, str]
    retry: ir.Retry
    timeout: int | None
    workdir: Path
    log: Path
    argv: list[tuple[str | ir.Placeholder, ...]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    #: The interpreter of the step's own package environment; None runs on this one.
    python: str | None = None
    #: A command step's output values (name -> type), each read back from a file it writes.
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class StepOutcome:
    status: Literal["done", "failed", "interrupted"]
    attempts: int
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, tuple[ArtifactValue, int]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


class Executor:
    def __init__(
        self,
        store: ArtifactStore,
        processes: Processes,
        cancel: threading.Event,
        backoff_scale: float = 1.0,
    ) -> None:
        self.store = store
        self.processes = processes
        self.cancel = cancel
        self.backoff_scale = backoff_scale

    def run(self, job: StepJob) -> StepOutcome:
        started = time.monotonic()
        job.workdir.mkdir(parents=True, exist_ok=True)
        message = ""
        for attempt in range(1, job.retry.count + 2):
            if attempt > 1:
                self._log(job, f"--- attempt {attempt} after: {message}")
                if self.cancel.wait(self.backoff(job.retry, attempt)):
                    return StepOutcome("interrupted", attempt - 1, "interrupted", started=started)
            outcome = self._attempt(job, attempt)
            outcome.started = started
            if outcome.status != "failed":
                return outcome
            message = outcome.message
            if self.cancel.is_set():
                return StepOutcome("interrupted", attempt, "interrupted", started=started)
            if message.startswith(_NOT_RETRIED):
                note = " (not retried: a missing module fails the same way every time)"
                return StepOutcome(
                    "failed", attempt, _after_first_line(message, note), started=started
                )
        tries = f" (after {job.retry.count + 1} attempts)" if job.retry.count else ""
        return StepOutcome(
            "failed", job.retry.count + 1, _after_first_line(message, tries), started=started
        )

    def backoff(self, retry: ir.Retry, attempt: int) -> float:
        """The wait before ``attempt`` (2, 3, ...), scaled for tests."""
        cap = retry.max_backoff_seconds
        return delay(attempt, retry.backoff_seconds, retry.backoff_factor, cap) * self.backoff_scale

    def _attempt(self, job: StepJob, attempt: int) -> StepOutcome:
        folder = job.workdir / f"attempt-{attempt}"
        if folder.exists():
            shutil.rmtree(folder)
        out_dir = folder / "outputs"
        out_dir.mkdir(parents=True)
        paths = {name: out_dir / name for name in (*job.outputs, *job.values)}
        if job.kind == "python":
            exit_ = self._python(job, folder, paths)
        else:
            argv = [
                "".join(str(paths[p.name]) if isinstance(p, ir.Placeholder) else p for p in arg)
                for arg in job.argv
            ]
            exit_ = self.processes.run_command(argv, job.env, job.log, job.timeout)
        if exit_.cancelled:
            return StepOutcome("interrupted", attempt, "interrupted")
        if exit_.timed_out:
            return StepOutcome("failed", attempt, f"timed out after {job.timeout}s and was stopped")
        result = _read_json(folder / "result.json") if job.kind == "python" else {}
        if exit_.code != 0:
            reason = str(result.get("error") or f"exited with code {exit_.code}")
            return StepOutcome("failed", attempt, f"{reason}{_tail(job.log)}\n  log: {job.log}")
        artifacts: dict[str, tuple[ArtifactValue, int]] = {}
        metadata: dict[str, Any] = result.get("artifacts", {})
        for name, type_name in job.outputs.items():
            path = paths[name]
            if not path.exists():
                if type_name != "Metrics":
                    return StepOutcome(
                        "failed",
                        attempt,
                        f"it did not write its output {name!r} ({type_name}): nothing at"
                        f" {name}.path",
                    )
                path.write_text("{}", encoding="utf-8")  # no metric logged is an empty Metrics
            sha, size = self.store.ingest(path)
            artifacts[name] = (
                ArtifactValue(
                    sha,
                    type_name,
                    str(self.store.path_of(sha)),
                    self.store.uri_of(sha),
                    dict(metadata.get(name) or {}),
                ),
                size,
            )
        params: dict[str, Any] = result.get("parameters", {})
        for name, type_name in job.values.items():
            try:
                params[name] = parse_output_file(paths[name].read_text(encoding="utf-8"), type_name)
            except OSError:
                return StepOutcome(
                    "failed",
                    attempt,
                    f"it did not write its output {name!r}: nothing at {name}.path",
                )
            except ValueError as exc:
                return StepOutcome("failed", attempt, f"its output {name!r}: {exc}")
        shutil.rmtree(folder, ignore_errors=True)
        return StepOutcome("done", attempt, params=params, artifacts=artifacts)

    def _python(self, job: StepJob, folder: Path, paths: dict[str, Path]) -> Exit:
        spec = {
            **job.spec,
            "outputs": {name: {"path": str(p), "uri": p.as_uri()} for name, p in paths.items()},
            "result": str(folder / "result.json"),
        }
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec, sort_keys=True), encoding="utf-8")
        return self.processes.run_python(spec_path, job.log, job.timeout, job.python)

    @staticmethod
    def _log(job: StepJob, line: str) -> None:
        with job.log.open("a", encoding="utf-8") as f:
            f.write(line + "\n")


#: Errors a retry cannot fix: the step's environment lacks a module it imports.
_NOT_RETRIED = ("ModuleNotFoundError:", "ImportError:")


def _after_first_line(message: str, note: str) -> str:
    first, newline, rest = message.partition("\n")
    return first + note + newline + rest


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _tail(log: Path) -> str:
    """The last lines the step printed, so a failure explains itself without opening the log."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    lines = [line for line in lines if line.strip()][-_LOG_TAIL:]
    return ("\n" + "\n".join("  | " + line for line in lines)) if lines else ""
