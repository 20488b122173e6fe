"""The local runner's semantics, each on a small pipeline from pipelines.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from mlcompile.errors import ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.local.executor import Executor
from tests.local.helpers import REPO, run


def _statuses(result: object) -> dict[str, str]:
    return {v.name: v.label for v in result.steps}  # type: ignore[attr-defined]


def test_retries_until_success_and_counts_attempts(store: Path, marker: Path) -> None:
    result = run("retrying", store, f"marker={marker}", "fail_times=2")
    assert result.ok
    assert result.step("flaky").attempts == 3
    assert result.outputs["attempts"] == 3
    times = [float(t) for t in (marker / "flaky").read_text().split()]
    # backoff 2s then 4s, scaled by 1% in tests: the second wait is about twice the first
    assert times[1] - times[0] >= 0.02 and times[2] - times[1] >= 0.04


def test_retries_exhausted_fail_with_last_error(store: Path, marker: Path) -> None:
    result = run("retrying", store, f"marker={marker}", "fail_times=9")
    assert result.status == "failed"
    view = result.step("flaky")
    assert view.attempts == 4
    assert "attempt 4 fails on purpose" in view.message and "after 4 attempts" in view.message


def test_backoff_follows_the_ir() -> None:
    executor = Executor.__new__(Executor)
    executor.backoff_scale = 1.0
    retry = ir.Retry(count=5, backoff_seconds=10, backoff_factor=2.0, max_backoff_seconds=30)
    assert [executor.backoff(retry, a) for a in range(2, 6)] == [10, 20, 30, 30]


def test_timeout_kills_the_step(store: Path) -> None:
    result = run("timing_out", store, "seconds=30")
    assert result.status == "failed"
    assert "timed out after 1s" in result.step("sleepy").message
    assert result.seconds < 15


def test_loop_parallelism_limits_concurrency(store: Path, marker: Path) -> None:
    items = json.dumps(["a", "b", "c", "d", "e"])
    result = run("fan_out", store, f"marker={marker}", f"items={items}", workers=4)
    assert result.ok
    assert result.outputs["items"] == ["a", "b", "c", "d", "e"]
    assert _max_concurrency(marker) == 2


def test_workers_bound_concurrency(store: Path, marker: Path) -> None:
    result = run("wide", store, f"marker={marker}", workers=3)
    assert result.ok
    assert 2 <= _max_concurrency(marker) <= 3


def _max_concurrency(marker: Path) -> int:
    spans = [json.loads(p.read_text()) for p in marker.glob("stamp-*")]
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def test_failure_stops_dependants_final_still_runs_and_rerun_resumes(
    store: Path, marker: Path
) -> None:
    (marker / "broken").write_text("")
    first = run("failing", store, f"marker={marker}")
    assert first.status == "failed"
    assert _statuses(first) == {
        "produce": "done",
        "breakable": "failed",
        "after_break": "upstream_failed",
        "independent": "done",
        "cleanup": "done",
    }
    assert "ValueError: the data is broken" in first.step("breakable").message
    assert (marker / "cleanup").exists()
    (marker / "broken").unlink()
    second = run("failing", store, f"marker={marker}")
    assert second.ok
    assert _statuses(second) == {
        "produce": "cached",
        "independent": "cached",
        "breakable": "done",
        "after_break": "done",
        "cleanup": "done",
    }
    assert second.outputs["shout"] == "VALUE=1"
    assert len((marker / "independent").read_text().split("\n")) == 2  # ran once only
    assert not any((store / "tmp").iterdir())  # no scratch left behind


def test_cache_hits_misses_and_uncached_steps(store: Path, marker: Path) -> None:
    run("cache_modes", store, f"marker={marker}")
    again = run("cache_modes", store, f"marker={marker}")
    assert _statuses(again) == {"uncached": "done", "cached_step": "cached"}
    assert (marker / "uncached").read_text().count("\n") == 2
    assert (marker / "cached").read_text().count("\n") == 1
    other = marker / "other"
    changed = run("cache_modes", store, f"marker={other}")  # a new parameter value: a miss
    assert _statuses(changed)["cached_step"] == "done"


def test_cache_key_follows_input_content(store: Path) -> None:
    run("failing", store, "marker=/nonexistent/a", "value=1")
    second = run("failing", store, "marker=/nonexistent/a", "value=2")
    assert _statuses(second)["produce"] == "done"  # new params, new data set


def test_merge_takes_the_branch_that_ran(store: Path) -> None:
    high = run("branching", store, "value=7")
    assert high.ok and high.outputs["chosen"] == "high:7"
    assert _statuses(high)["label_2"] == "skipped"
    low = run("branching", store, "value=1")
    assert low.ok and low.outputs["chosen"] == "low:1"
    assert _statuses(low)["label"] == "skipped"


def test_metric_condition_and_fail_message(store: Path) -> None:
    passed = run("gated", store, "value=0.8", "threshold=0.5")
    assert passed.ok and _statuses(passed) == {"score": "done", "accept": "done", "fail": "skipped"}
    failed = run("gated", store, "value=0.3", "threshold=0.5")
    assert failed.status == "failed"
    assert failed.step("fail").message == "score 0.3 is below 0.5"
    assert _statuses(failed)["accept"] == "skipped"


def test_missing_metric_key_fails_the_condition(store: Path) -> None:
    result = run("missing_metric", store)
    assert result.status == "failed"
    message = next(v.message for v in result.steps if v.status == "failed")
    assert "no metric 'precision'" in message and "score" in message


def test_nested_pipeline(store: Path) -> None:
    result = run("outer", store, "value=4")
    assert result.ok
    assert result.outputs == {"text": "value=4", "value": 4}
    assert _statuses(result) == {"inner/produce": "done", "read_text": "done"}


def test_container_step_runs_its_command_on_the_host(store: Path) -> None:
    result = run("containers", store, "text=abcdef")
    assert result.ok and result.outputs["count"] == "6"


def test_container_step_without_its_program_says_why(store: Path) -> None:
    result = run("no_program", store)
    message = result.step("missing_tool").message
    assert result.status == "failed"
    assert "'mlcompile-no-such-program', which is not on PATH" in message
    assert "example/tool:1" in message


def test_missing_secret_names_the_variable(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLCOMPILE_SECRET_TEST_API_TOKEN", raising=False)
    monkeypatch.delenv("API_TOKEN", raising=False)
    with pytest.raises(ValidationError) as info:  # before any step starts
        run("secretive", store)
    (missing,) = info.value.diagnostics
    assert missing.code == "MLC910" and "MLCOMPILE_SECRET_TEST_API_TOKEN" in missing.message
    monkeypatch.setenv("MLCOMPILE_SECRET_TEST_API_TOKEN", "s3cret")
    found = run("secretive", store)
    assert found.ok and found.outputs["ok"] is True


def test_segments_fans_out_over_a_runtime_list(store: Path) -> None:
    spec = str(REPO / "examples" / "segments" / "pipeline.py")
    result = run(spec, store, "count=4")
    assert result.ok
    assert [v.name for v in result.steps if v.name.startswith("score_segment")] == [
        f"score_segment[{i}]" for i in range(4)
    ]
    assert isinstance(result.outputs["mean_score"], float)


def test_bad_param_is_a_user_error(store: Path) -> None:
    with pytest.raises(ValidationError, match=r"no parameter 'vlaue'\. Did you mean 'value'"):
        run("outer", store, "vlaue=3")
    with pytest.raises(ValidationError, match="not a valid int"):
        run("outer", store, "value=three")


def test_lineage_records_runs_steps_and_artifacts(store: Path) -> None:
    result = run("outer", store, "value=3")
    db = sqlite3.connect(store / "lineage.db")
    (status, ir_hash) = db.execute(
        "SELECT status, ir_hash FROM runs WHERE id = ?", (result.run_id,)
    ).fetchone()
    assert status == "succeeded" and ir_hash == result.ir_hash
    rows = db.execute(
        "SELECT s.name, l.direction, a.sha256, a.uri FROM steps s JOIN step_artifacts l"
        " ON l.step_id = s.id JOIN artifacts a ON a.sha256 = l.sha256 ORDER BY s.id, l.direction"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("inner/produce", "out"), ("read_text", "in")]
    assert rows[0][2] == rows[1][2] and rows[0][3].startswith("file://")
    assert Path(rows[0][3].removeprefix("file://")).read_text() == "value=3\n"


def test_a_loop_is_a_barrier_nothing_after_a_failed_iteration_runs(
    store: Path, marker: Path
) -> None:
    result = run("loop_barrier", store, f"marker={marker}")
    assert result.status == "failed"
    assert result.step("checked[1]").status == "failed"
    fan_in = result.step("fan_in")
    assert fan_in.status == "upstream_failed", fan_in
    assert "checked[1] failed" in fan_in.message
    assert not (marker / "fan_in").exists()


def test_a_step_process_ends_and_draws_as_a_fresh_interpreter_would(
    store: Path, marker: Path
) -> None:
    """Steps start in forks of a warm process; what a step sees must not change for that."""
    result = run("fresh_processes", store, f"marker={marker}")
    assert result.ok, result.steps
    for name in ("one", "two"):
        assert (marker / f"{name}-thread").exists() and (marker / f"{name}-atexit").exists()
    assert result.outputs["first"] != result.outputs["second"]
