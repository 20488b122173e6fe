"""How the run loop waits: a self-pipe that step completions and Ctrl-C both write to.

A signal handler runs on the main thread between two bytecodes, possibly while that thread holds
a lock (a ``queue.Queue``'s mutex, an ``Event``'s condition, the logging lock). Taking the same
lock in the handler deadlocks the run. So the handler only sets a flag and writes one byte to a
pipe, both safe at any point; the loop wakes on the pipe and acts on the flag. Completions from
worker threads go through a deque, whose ``append`` and ``popleft`` are atomic and lock-free at the
Python level, and poke the same pipe.
"""

from __future__ import annotations

import contextlib
import os
import select
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Wakeup(Generic[T]):
    """Events handed from worker threads and a signal handler to the loop on the main thread."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._events: deque[T] = deque()
        self.interrupted = False

    def post(self, event: T) -> None:
        """From any thread: hand ``event`` to the loop."""
        self._events.append(event)
        self._poke()

    def interrupt(self) -> None:
        """From a signal handler: no lock, no allocation beyond a flag and one byte."""
        self.interrupted = True
        self._poke()

    def next(self) -> T | None:
        """Block until an event or an interrupt; ``None`` means interrupted."""
        while True:
            if self.interrupted:
                return None
            if self._events:
                return self._events.popleft()
            # Anything posted after the checks above has written a byte, so this cannot sleep
            # through it; a signal interrupting select() is retried by Python (PEP 475) after the
            # handler ran, and the handler's byte makes it return.
            select.select([self._read], [], [])
            with contextlib.suppress(BlockingIOError):
                os.read(self._read, 4096)

    def close(self) -> None:
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _poke(self) -> None:
        # A full pipe already holds a wake-up; a closed one belongs to a finished run.
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._write, b"\0")
