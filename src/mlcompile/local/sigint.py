"""Who handles Ctrl-C around a run: the run's loop while it runs, then what was there before.

While a run runs, Ctrl-C only sets a flag the loop acts on (see ``wakeup.py``). A command line
that reports the run after it ends asks :func:`ignore_after_runs`: once the run is recorded, a
late Ctrl-C cannot turn a recorded success into exit code 130 (or stop the recording half-way).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

_after_runs: Any = None


def ignore_after_runs() -> None:
    """From now on a finished run leaves Ctrl-C ignored (the process reports it and exits)."""
    global _after_runs
    _after_runs = signal.SIG_IGN


def catch(handler: Callable[[], None]) -> Any:
    """Ctrl-C calls ``handler`` instead of raising; returns what to give :func:`release`."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, lambda signum, frame: handler())


def release(previous: Any) -> None:
    """The run is recorded: hand Ctrl-C back (or ignore it, see :func:`ignore_after_runs`)."""
    if previous is not None:
        signal.signal(signal.SIGINT, _after_runs if _after_runs is not None else previous)
