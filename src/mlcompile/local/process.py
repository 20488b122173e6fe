"""Step processes: each step attempt runs in its own process, started in about a millisecond.

A Python step pays for importing mlcompile (and pydantic) before it can load the user's code.
The runner keeps one ``python -m mlcompile.runtime local --serve`` process with those imports
done, which forks a process per step on request (steps with a package environment of their own
get a fresh interpreter of it instead). Every step process is the leader of its own process
group, so a timeout or Ctrl-C kills the step and anything it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_RUNTIME = [sys.executable, "-m", "mlcompile.runtime", "local"]


@dataclass(frozen=True)
class Exit:
    """How a step process ended."""

    code: int
    timed_out: bool = False
    cancelled: bool = False


@dataclass
class _Request:
    started: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    pid: int | None = None
    code: int = -1


class _ForkServer:
    """The client of ``runtime local --serve``: submits steps, learns their pids and exits."""

    def __init__(self, root: Path, env: dict[str, str], log: Path) -> None:
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [*_RUNTIME, "--serve"],
            cwd=root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,
        )
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._requests: dict[int, _Request] = {}
        self._counter = 0
        self._alive = True
        threading.Thread(target=self._read, name="mlc-forkserver", daemon=True).start()

    def submit(self, spec: Path, log: Path) -> _Request | None:
        """The started step's request, or None when the server is gone."""
        request = _Request()
        with self._lock:
            if not self._alive:
                return None
            self._counter += 1
            number = self._counter
            self._requests[number] = request
        line = json.dumps({"id": number, "spec": str(spec), "log": str(log)}) + "\n"
        try:
            assert self.proc.stdin is not None
            with self._write_lock:  # workers submit at once: one whole line each
                self.proc.stdin.write(line.encode())
                self.proc.stdin.flush()
        except OSError:
            with self._lock:
                self._requests.pop(number, None)
            return None
        request.started.wait()
        return request if request.pid is not None else None

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                message: dict[str, Any] = json.loads(line)
            except ValueError:
                continue  # only replies are written there; anything else is not ours
            with self._lock:
                request = self._requests.get(int(message["id"]))
                if request is not None and "code" in message:
                    del self._requests[int(message["id"])]
            if request is None:
                continue
            if "pid" in message:
                request.pid = int(message["pid"])
                request.started.set()
            else:
                request.code = int(message["code"])
                request.ended.set()
        # The server is gone: nothing it started will be reported again.
        with self._lock:
            self._alive = False
            orphans, self._requests = list(self._requests.values()), {}
        for request in orphans:
            request.started.set()
            request.ended.set()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill(self.proc.pid)
            self.proc.wait()
        self._log.close()


class Processes:
    """Starts, tracks and stops step processes for one run."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = root
        self.scratch = scratch
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._lock = threading.Lock()
        self._running: set[int] = set()  # pids of step processes (each leads its group)
        self._closed = False
        self._server = _ForkServer(root, self.env, scratch / "forkserver.log")

    def run_python(
        self, spec: Path, log: Path, timeout: float | None, python: str | None = None
    ) -> Exit:
        """Run the runtime on a spec; the process output is appended to ``log``. With
        ``python`` (a step's own package environment) the step gets a process of its own."""
        request = self._server.submit(spec, log) if python is None else None
        if request is None:
            runtime = _RUNTIME if python is None else [python, *_RUNTIME[1:]]
            with log.open("ab") as log_file:
                proc = subprocess.Popen(
                    [*runtime, str(spec)],
                    cwd=self.root,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                return self._wait(proc, timeout)
        assert request.pid is not None
        pid = request.pid
        if not self._track(pid):
            return Exit(-1, cancelled=True)
        try:
            if not request.ended.wait(timeout):
                _kill(pid)
                request.ended.wait()
                return Exit(request.code, timed_out=True)
        finally:
            self._untrack(pid)
        return Exit(request.code, cancelled=self._is_closed())

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

    def _track(self, pid: int) -> bool:
        with self._lock:
            if self._closed:
                _kill(pid)
                return False
            self._running.add(pid)
            return True

    def _untrack(self, pid: int) -> None:
        with self._lock:
            self._running.discard(pid)

    def _is_closed(self) -> bool:
        with self._lock:
            return self._closed

    def _wait(self, proc: subprocess.Popen[bytes], timeout: float | None) -> Exit:
        if not self._track(proc.pid):
            proc.wait()
            return Exit(-1, cancelled=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc.pid)
            return Exit(proc.wait(), timed_out=True)
        finally:
            self._untrack(proc.pid)
        return Exit(code, cancelled=self._is_closed())

    def close(self, *, kill: bool) -> None:
        """Stop the fork server; with ``kill``, stop running steps too (Ctrl-C)."""
        with self._lock:
            self._closed = True
            running = list(self._running) if kill else []
        for pid in running:
            _kill(pid)
        self._server.close()


def _kill(pid: int) -> None:
    """Stop a step and everything it started: its whole process group (or the process alone,
    when a fork has not made its group yet)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    except PermissionError:
        pass
