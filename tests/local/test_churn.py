"""The churn example end to end: gate, registry, endpoint, batch predictions and lineage."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlcompile.local.cli import show_lineage
from tests.local.helpers import REPO, run

CHURN = str(REPO / "examples" / "churn" / "pipeline.py")
SMALL = ("rows=600", "n_estimators=20")


@pytest.fixture(scope="module")
def churn_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One churn run that passes the gate, shared by the tests that read what it left."""
    store = tmp_path_factory.mktemp("churn") / "store"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN", "test-only-placeholder")
        result = run(CHURN, store, *SMALL, "min_auc=0.5")
    assert result.ok, [v for v in result.steps if v.status != "done"]
    yield store


@pytest.fixture(scope="module")
def endpoint(churn_store: Path) -> Iterator[str]:
    """``mlcompile serve churn`` on a free port of 127.0.0.1, stopped after the tests."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from mlcompile.cli.main import main; main()",
            "serve",
            "churn",
            "--store",
            str(churn_store),
            "--port",
            "0",
        ],
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


@pytest.mark.slow
def test_churn_passes_the_gate_and_deploys(churn_store: Path) -> None:
    from mlcompile.local import registry
    from mlcompile.local.lineage import LineageDB

    db = LineageDB(churn_store / "lineage.db")
    try:
        version = registry.model(db, "churn")
        assert version is not None and version.version == 1
        assert version.approval == "PendingManualApproval" and version.metrics["auc"] >= 0.5
        served = registry.endpoint(db, "churn")
        assert served is not None and served.model_sha256 == version.model_sha256
        (predictions,) = db.conn.execute(
            "SELECT a.uri FROM steps s JOIN step_artifacts l ON l.step_id = s.id JOIN artifacts a"
            " ON a.sha256 = l.sha256 WHERE s.name = 'batch_predict' AND l.direction = 'out'"
        ).fetchone()
    finally:
        db.close()
    lines = Path(predictions.removeprefix("file://")).read_text().splitlines()
    assert lines[0] == "prediction" and len(lines) == 1 + 150  # the 25% test split
    assert set(lines[1:]) <= {"0", "1"}


@pytest.mark.slow
def test_endpoint_predicts_csv_and_json(endpoint: str) -> None:
    csv_body = b"tenure,monthly,calls,contract,churned\n2,95.5,6,0,1\n70,30.0,0,2,0\n"
    request = urllib.request.Request(
        endpoint + "/predict", data=csv_body, headers={"Content-Type": "text/csv"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)
    assert answer["model"] == "churn" and answer["version"] == 1
    assert len(answer["predictions"]) == 2 and set(answer["predictions"]) <= {0, 1}
    rows = [{"tenure": 2, "monthly": 95.5, "calls": 6, "contract": 0}]
    request = urllib.request.Request(
        endpoint + "/predict",
        data=json.dumps({"instances": rows}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert len(json.load(response)["predictions"]) == 1


@pytest.mark.slow
def test_lineage_walks_from_the_model_to_its_training_data(
    churn_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert show_lineage("model:churn", churn_store, as_json=True) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"]["name"] == "churn" and data["model"]["version"] == 1
    trained = data["artifact"]["produced_by"]
    assert trained["step"] == "train" and trained["params"] == {"n_estimators": 20}
    split = trained["inputs"]["data"][0]["produced_by"]
    assert split["step"] == "split"
    made = split["inputs"]["data"][0]["produced_by"]
    assert made["step"] == "make_data" and made["params"] == {"rows": 600, "seed": 7}
    assert made["inputs"] == {} and made["code_sha256"] == trained["code_sha256"]
    assert show_lineage("model:churn:1", churn_store, as_json=False) == 0
    assert "make_data" in capsys.readouterr().out


@pytest.mark.slow
def test_gate_fails_below_min_auc_and_reuses_the_cache(
    churn_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN", "test-only-placeholder")
    result = run(CHURN, churn_store, *SMALL, "min_auc=0.999")
    assert result.status == "failed"
    labels = {v.name: v.label for v in result.steps}
    assert labels["make_data"] == labels["train"] == labels["evaluate"] == "cached"
    assert labels["register_model"] == labels["deploy_model"] == "skipped"
    message = result.step("fail").message
    assert message.startswith("AUC 0.") and message.endswith("is below the threshold 0.999")
