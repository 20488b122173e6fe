"""Ctrl-C at any point of a run stops it within a bound, leaves a consistent store, and the rerun
resumes from the cache.

The signal handler must not take a lock the interrupted code may hold, so the test lands SIGINT at
a spread of moments: while the run starts, between steps, while steps run, inside the loop and
while the run finishes. Each interruption is judged by what is left behind, never by timing, so a
loaded machine only moves where the signal lands.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlcompile.cli.main import app
from tests.local.helpers import PIPELINES

#: Seconds after the run opened its store; the run itself takes about 1-3 s.
DELAYS = (0.0, 0.02, 0.1, 0.25, 0.5, 0.8, 1.2, 1.8)
#: However loaded the machine, an interrupted run is gone this long after Ctrl-C.
STOP_BOUND = 30.0
SPEC = f"{PIPELINES}:interruptible"


def _lingering(token: str) -> list[int]:
    """Processes still alive that a run started (they inherit the run's environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if token.encode() in environ:
            found.append(int(entry.name))
    return found


def _interrupt(store: Path, delay: float) -> tuple[int, str, float]:
    token = f"MLC_INTERRUPT_TEST={uuid.uuid4().hex}"
    env = {**os.environ, token.split("=")[0]: token.split("=")[1]}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlcompile", "run", SPEC, "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not (store / "lineage.db").exists() and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    time.sleep(delay)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=STOP_BOUND)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the run did not stop within {STOP_BOUND}s of Ctrl-C (delay {delay}s)")
    took = time.monotonic() - sent
    assert not _lingering(token), f"step processes outlived the run (delay {delay}s)"
    return proc.returncode, err.decode(), took


@pytest.mark.parametrize("delay", DELAYS)
def test_ctrl_c_at_any_point_stops_cleanly_and_resumes(tmp_path: Path, delay: float) -> None:
    store = tmp_path / "store"
    code, err, _ = _interrupt(store, delay)
    assert code in (0, 130), err
    assert "Traceback" not in err and "internal error" not in err, err
    db = sqlite3.connect(store / "lineage.db")
    (status,) = db.execute("SELECT status FROM runs").fetchone()
    assert status == ("succeeded" if code == 0 else "interrupted"), err
    steps = dict(db.execute("SELECT name, status FROM steps").fetchall())
    db.close()
    # Every step that started was settled: done, or interrupted, and nothing half-written.
    assert set(steps.values()) <= {"done", "interrupted"}, steps
    assert not any((store / "tmp").iterdir())
    for sha in (store / "artifacts").iterdir() if (store / "artifacts").exists() else ():
        assert not sha.name.startswith("."), f"a partial artifact {sha.name} was left behind"
    rerun = CliRunner().invoke(app, ["run", SPEC, "--store", str(store), "--json"])
    assert rerun.exit_code == 0, rerun.output
    result = json.loads(rerun.stdout)
    assert result["outputs"] == {"value": 11}
    again = {s["name"]: s for s in result["steps"]}
    for name, before in steps.items():
        if before == "done":
            assert again[name]["cached"], f"{name} ran again although it had finished"
