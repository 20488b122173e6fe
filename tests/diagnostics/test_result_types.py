"""A step returning what its annotation does not say fails in the step, naming it and its
line, on every platform (the check is in the step runtime all of them share)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from mlcompile.runtime.invoke import StepFailed, invoke


def count() -> int:
    return "many"  # type: ignore[return-value]


class Scores(NamedTuple):
    auc: float
    label: str


def scores() -> Scores:
    return Scores(auc="high", label="x")  # type: ignore[arg-type]


def fine() -> Scores:
    return Scores(auc=1, label="x")


def test_a_wrong_return_type_fails_the_step() -> None:
    with pytest.raises(
        StepFailed,
        match=r"'count' \(test_result_types.py:\d+\) is declared to return int but returned 'many'",
    ):
        invoke(count, {}, {}, {})
    with pytest.raises(StepFailed, match=r"field 'auc' float but returned 'high'"):
        invoke(scores, {}, {}, {})
    assert invoke(fine, {}, {}, {})[0] == {"auc": 1, "label": "x"}


def test_a_local_run_reports_it(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.py"
    pipe.write_text(
        "from mlcompile import pipeline, step\n\n@step\ndef count() -> int:\n    return 'many'\n\n"
        "@step\ndef show(n: int) -> None:\n    print(n)\n\n@pipeline\ndef flow():\n"
        "    show(n=count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mlcompile", "run", str(pipe), "--store", str(tmp_path / "s")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = result.stdout + result.stderr
    assert result.returncode == 1, text
    assert "declared to return int but returned 'many'" in text, text
