"""The monitoring part of ``make demo``: serve churn, send a shifted batch, see drift and retrain."""

from __future__ import annotations

import csv
import io
import json
import random
import threading
import urllib.request
from pathlib import Path
from typing import Any

FEATURES = ("tenure", "monthly", "calls", "contract")


def show_drift(store: Path, endpoint: str = "churn") -> bool:
    """True when drift was detected and the declared retraining run succeeded."""
    from mlcompile.local import registry
    from mlcompile.local.cli import show_lineage
    from mlcompile.local.lineage import LineageDB
    from mlcompile.local.serving import ModelServer
    from mlcompile.monitor.local import capture_path, check_endpoint, print_outcome, print_retrain

    db = LineageDB(store / "lineage.db")
    try:
        served = registry.endpoint(db, endpoint)
        training = _training_rows(db, store)
    finally:
        db.close()
    if served is None:
        print(f"no endpoint {endpoint!r} was deployed; skipping the monitoring demo")
        return False
    model = store.resolve() / "artifacts" / served.model_sha256
    server = ModelServer(0, served, model, capture_path(store, endpoint))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rng = random.Random(1)
        normal = rng.sample(training, min(200, len(training)))
        shifted = [
            {**row, "monthly": row["monthly"] + 40.0, "contract": float(rng.choice([2, 3]))}
            for row in rng.sample(training, min(400, len(training)))
        ]
        for batch in (normal, shifted):
            _post(server.url, batch)
        print(
            f"served {len(normal)} rows like the training data, then {len(shifted)} with monthly"
            " charges 40 higher and a contract type never seen, at "
            f"{server.url}/predict"
        )
    finally:
        server.shutdown()
        server.server_close()
    print(f"\nmlcompile monitor {endpoint} --store {store}")
    outcome = check_endpoint(endpoint, store, show=print_outcome)
    print_retrain(outcome)
    if outcome.retrain_run is not None:
        print(f"\nmlcompile lineage {outcome.retrain_run} --store {store}")
        show_lineage(outcome.retrain_run, store, as_json=False)
    return outcome.report.drifted and outcome.retrain_status == "succeeded"


def _training_rows(db: Any, store: Path) -> list[dict[str, float]]:
    row = db.conn.execute(
        "SELECT l.sha256 FROM steps s JOIN step_artifacts l ON l.step_id = s.id"
        " WHERE s.task = 'split' AND l.direction = 'out' AND l.name = 'train'"
        " ORDER BY s.id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return []
    text = (store / "artifacts" / row[0]).read_text(encoding="utf-8")
    return [{k: float(r[k]) for k in FEATURES} for r in csv.DictReader(io.StringIO(text))]


def _post(url: str, rows: list[dict[str, float]]) -> None:
    request = urllib.request.Request(
        url + "/predict",
        json.dumps({"instances": rows}).encode(),
        {"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
