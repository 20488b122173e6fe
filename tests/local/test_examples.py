"""The examples the other tests do not cover end to end, run as a user would run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.local.helpers import REPO, run


def example(name: str) -> str:
    return str(REPO / "examples" / name / "pipeline.py")


def test_minimal(store: Path) -> None:
    result = run(example("minimal"), store, "start=7")
    assert result.ok and result.outputs == {"squared": 49}


@pytest.mark.slow
def test_sweep_fans_in_models_and_runs_the_final_step(store: Path) -> None:
    result = run(example("sweep"), store)
    assert result.ok, [(s.name, s.message) for s in result.steps]
    fits = [s for s in result.steps if s.name.startswith("fit[")]
    assert len(fits) == 4
    assert 0.5 < result.outputs["best_score"] <= 1.0
    assert result.step("report").status == "done"


@pytest.mark.slow
def test_retrain_runs_nested_container_secret_and_merge(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLCOMPILE_SECRET_WAREHOUSE_TOKEN", "placeholder-for-tests")
    promoted = run(example("retrain"), store, "champion_auc=0.0")
    assert promoted.ok, [(s.name, s.message) for s in promoted.steps]
    assert promoted.outputs["outcome"].startswith("promoted")
    assert promoted.step("profile_data").status == "done"
    kept = run(example("retrain"), store, "champion_auc=1.0")
    assert kept.ok and kept.outputs["outcome"].startswith("kept the champion")
