"""Step processes: each step attempt runs in its own process, started ahead of time when it can.

A Python step pays for importing mlcompile (and pydantic) before it can load the user's code.
The runner keeps a few ``python -m mlcompile.runtime local -`` processes waiting with those
imports done; a step hands one its spec path on stdin. Every process is the leader of its own
process group, so a timeout or Ctrl-C kills the step and anything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_RUNTIME = [sys.executable, "-m", "mlcompile.runtime", "local"]


@dataclass
class _Spare:
    proc: subprocess.Popen[bytes]
    log: Path
    log_file: IO[bytes]


@dataclass(frozen=True)
class Exit:
    """How a step process ended."""

    code: int
    timed_out: bool = False
    cancelled: bool = False


class Processes:
    """Starts, tracks and stops step processes for one run."""

    def __init__(self, root: Path, scratch: Path, spares: int) -> None:
        self.root = root
        self.scratch = scratch
        self.spares_wanted = spares
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._lock = threading.Lock()
        self._spares: list[_Spare] = []
        self._running: set[subprocess.Popen[bytes]] = set()
        self._counter = 0
        self._closed = False
        for _ in range(spares):
            self._start_spare()

    def _start_spare(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._counter += 1
            log = self.scratch / f"process-{self._counter}.log"
        log_file = log.open("wb")
        proc = subprocess.Popen(
            [*_RUNTIME, "-"],
            cwd=self.root,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with self._lock:
            closed = self._closed
            if not closed:
                self._spares.append(_Spare(proc, log, log_file))
        if closed:  # the run stopped while this one started: nobody would ever stop it
            _kill(proc)
            proc.wait()
            log_file.close()

    def run_python(
        self, spec: Path, log: Path, timeout: float | None, python: str | None = None
    ) -> Exit:
        """Run the runtime on a spec; the process output is appended to ``log``. With
        ``python`` (a step's own package environment) the step gets a process of its own."""
        spare = self._take_spare() if python is None else None
        if spare is not None:
            try:
                assert spare.proc.stdin is not None
                spare.proc.stdin.write(f"{spec}\n".encode())
                spare.proc.stdin.close()
            except OSError:
                spare = None
        if spare is None:
            log_path = spec.with_suffix(".log")
            log_file = log_path.open("wb")
            runtime = _RUNTIME if python is None else [python, *_RUNTIME[1:]]
            proc = subprocess.Popen(
                [*runtime, str(spec)],
                cwd=self.root,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            spare = _Spare(proc, log_path, log_file)
        else:
            self._start_spare()
        try:
            return self._wait(spare.proc, timeout)
        finally:
            spare.log_file.close()
            _append(log, spare.log)

    def run_command(
        self, argv: list[str], env: dict[str, str], log: Path, timeout: float | None
    ) -> Exit:
        with log.open("ab") as log_file:
            proc = subprocess.Popen(
                argv,
                cwd=self.root,
                env={**self.env, **env},
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            return self._wait(proc, timeout)

    def _take_spare(self) -> _Spare | None:
        with self._lock:
            while self._spares:
                spare = self._spares.pop(0)
                if spare.proc.poll() is None:
                    return spare
                spare.log_file.close()
        return None

    def _wait(self, proc: subprocess.Popen[bytes], timeout: float | None) -> Exit:
        with self._lock:
            if self._closed:
                _kill(proc)
                return Exit(-1, cancelled=True)
            self._running.add(proc)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            return Exit(proc.wait(), timed_out=True)
        finally:
            with self._lock:
                self._running.discard(proc)
        with self._lock:
            cancelled = self._closed
        return Exit(code, cancelled=cancelled)

    def close(self, *, kill: bool) -> None:
        """Stop waiting processes; with ``kill``, stop running steps too (Ctrl-C)."""
        with self._lock:
            self._closed = True
            spares, self._spares = self._spares, []
            running = list(self._running) if kill else []
        for proc in running:
            _kill(proc)
        for spare in spares:
            # Idle processes hold no work: stopping them beats waiting for their imports.
            _kill(spare.proc)
            spare.proc.wait()
            spare.log_file.close()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Stop a step and everything it started: its whole process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _append(target: Path, source: Path) -> None:
    with target.open("ab") as out, source.open("rb") as src:
        out.write(src.read())
    source.unlink(missing_ok=True)
