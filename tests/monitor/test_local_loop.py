"""The local monitoring loop: serve churn, send a shifted batch, monitor, retrain, lineage."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local.helpers import REPO, run

CHURN = str(REPO / "examples" / "churn" / "pipeline.py")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlcompile", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        env={**os.environ, "MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN": "test-only-placeholder"},
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    store = tmp_path_factory.mktemp("monitor") / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN", "test-only-placeholder")
        result = run(CHURN, store, "rows=600", "n_estimators=20", "min_auc=0.5")
    assert result.ok, [v for v in result.steps if v.status != "done"]
    yield store


@pytest.fixture(scope="module")
def endpoint(store: Path) -> Iterator[str]:
    """``mlcompile serve churn`` on a free port, stopped (by its pid) after the tests."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlcompile", "serve", "churn", "--store", str(store), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, line
        yield line.split(" on ")[1].split("/predict")[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _training_rows(store: Path) -> list[dict[str, str]]:
    from mlcompile.local.lineage import LineageDB

    db = LineageDB(store / "lineage.db")
    try:
        (sha,) = db.conn.execute(
            "SELECT l.sha256 FROM steps s JOIN step_artifacts l ON l.step_id = s.id"
            " WHERE s.task = 'split' AND l.direction = 'out' AND l.name = 'train'"
        ).fetchone()
    finally:
        db.close()
    text = (store / "artifacts" / sha).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _send(url: str, rows: list[dict[str, object]]) -> None:
    body = json.dumps({"instances": rows}).encode()
    request = urllib.request.Request(
        url + "/predict", body, {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert len(json.load(response)["predictions"]) == len(rows)


@pytest.mark.slow
def test_drift_starts_the_declared_retraining_and_lineage_names_the_result(
    store: Path, endpoint: str
) -> None:
    features = ("tenure", "monthly", "calls", "contract")
    training = [{k: float(r[k]) for k in features} for r in _training_rows(store)]

    # Requests that look like the training data: no drift, nothing retrained.
    _send(endpoint, random.Random(1).sample(training, 200))
    quiet = _cli("monitor", "churn", "--store", str(store), "--json")
    assert quiet.returncode == 0, quiet.stderr
    report = json.loads(quiet.stdout)
    assert report["drifted"] is False and report["retrain"] is None
    assert report["current_rows"] == 200
    assert {(c["feature"], c["statistic"]) for c in report["checks"]} == {
        ("tenure", "psi"), ("tenure", "ks"), ("tenure", "missing"),
        ("monthly", "psi"), ("monthly", "ks"), ("monthly", "missing"),
        ("calls", "psi"), ("calls", "ks"), ("calls", "missing"),
        ("contract", "chi2"), ("contract", "missing"),
    }  # fmt: skip

    # A shifted batch: higher charges and a contract type the model never saw.
    rng = random.Random(2)
    shifted = [
        {**row, "monthly": row["monthly"] + 40.0, "contract": float(rng.choice([2, 3]))}
        for row in rng.sample(training, 400)
    ]
    _send(endpoint, shifted)
    table = _cli("monitor", "churn", "--store", str(store), "--no-retrain")
    assert table.returncode == 0, table.stderr
    for text in ("feature", "statistic", "threshold", "monthly", "psi", "> 0.2", "< 0.05", "DRIFT"):
        assert text in table.stdout
    assert "retraining run" not in table.stdout
    drifted = _cli("monitor", "churn", "--store", str(store), "--json")
    assert drifted.returncode == 0, drifted.stderr
    report = json.loads(drifted.stdout)
    assert report["drifted"] is True
    assert report["drifted_features"] == ["contract", "monthly"]
    by_check = {(c["feature"], c["statistic"]): c for c in report["checks"]}
    assert by_check[("monthly", "psi")]["value"] > 0.2
    assert by_check[("monthly", "ks")]["value"] > 0.1
    assert by_check[("contract", "chi2")]["pvalue"] < 0.05
    assert not by_check[("tenure", "ks")]["drifted"]
    retrain = report["retrain"]
    assert retrain["status"] == "succeeded"
    assert retrain["params"]["seed"] == 8 and retrain["params"]["rows"] == 4000
    assert retrain["params"]["approval"] == "PendingManualApproval"

    shown = _cli("lineage", retrain["run_id"], "--store", str(store), "--json")
    assert shown.returncode == 0, shown.stderr
    trigger = json.loads(shown.stdout)["run"]["triggered_by"]
    assert trigger["monitoring_id"] == report["monitoring_id"]
    assert trigger["endpoint"] == "churn" and trigger["version"] == 1
    assert trigger["baseline_sha256"] == report["baseline_sha256"]
    assert trigger["drifted_features"] == ["contract", "monthly"]
    text = _cli("lineage", retrain["run_id"], "--store", str(store))
    assert f"triggered by monitoring result {report['monitoring_id']}" in text.stdout


def test_an_endpoint_without_runs_is_a_diagnostic(tmp_path: Path) -> None:
    shown = _cli("monitor", "churn", "--store", str(tmp_path), "--json")
    assert shown.returncode == 2
    assert json.loads(shown.stdout)["diagnostics"][0]["code"] == "MLC117"
