"""The local commands as a user or CI calls them: exit codes, --json, runs, and Ctrl-C."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from mlcompile.cli.main import app
from tests.local.helpers import PIPELINES


def test_run_json_and_exit_codes(store: Path, marker: Path) -> None:
    cli = CliRunner()
    ok = cli.invoke(app, ["run", f"{PIPELINES}:outer", "--store", str(store), "--json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout)
    assert data["ok"] and data["outputs"] == {"text": "value=5", "value": 5}
    (marker / "broken").write_text("")
    failed = cli.invoke(
        app,
        ["run", f"{PIPELINES}:failing", "-p", f"marker={marker}", "--store", str(store), "--json"],
    )
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["status"] == "failed"
    bad = cli.invoke(
        app, ["run", f"{PIPELINES}:outer", "-p", "value=x", "--store", str(store), "--json"]
    )
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["diagnostics"][0]["code"] == "MLC117"
    runs = cli.invoke(app, ["runs", "--store", str(store), "--json"])
    listed = json.loads(runs.stdout)["runs"]
    assert [r["status"] for r in listed] == ["failed", "succeeded"]
    lineage = cli.invoke(app, ["lineage", listed[1]["run_id"], "--store", str(store), "--json"])
    steps = json.loads(lineage.stdout)["run"]["steps"]
    assert [s["step"] for s in steps] == ["inner/produce", "read_text"]
    unknown = cli.invoke(app, ["lineage", "nothing-like-this", "--store", str(store)])
    assert unknown.exit_code == 2


def test_text_output_shows_summary_and_cache(store: Path) -> None:
    cli = CliRunner()
    cli.invoke(app, ["run", f"{PIPELINES}:outer", "--store", str(store)])
    again = cli.invoke(app, ["run", f"{PIPELINES}:outer", "--store", str(store)])
    assert again.exit_code == 0
    assert "2 step(s) from the cache" in again.stdout and "cached" in again.stdout


def test_ctrl_c_stops_cleanly_and_the_rerun_resumes(store: Path, marker: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "from mlcompile.cli.main import main; main()",
        "run",
        f"{PIPELINES}:long_running",
        "-p",
        f"marker={marker}",
        "--store",
        str(store),
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (marker / "waiting").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    db = sqlite3.connect(store / "lineage.db")
    assert db.execute("SELECT status FROM runs").fetchone() == ("interrupted",)
    assert dict(db.execute("SELECT name, status FROM steps").fetchall()) == {
        "produce": "done",
        "wait_for": "interrupted",
    }
    assert not any((store / "tmp").iterdir())
    rerun = CliRunner().invoke(
        app,
        [
            "run",
            f"{PIPELINES}:long_running",
            "-p",
            f"marker={marker}",
            "-p",
            "seconds=0",
            "--store",
            str(store),
            "--json",
        ],
    )
    steps = {s["name"]: s for s in json.loads(rerun.stdout)["steps"]}
    assert steps["produce"]["cached"] and steps["wait_for"]["status"] == "done"
