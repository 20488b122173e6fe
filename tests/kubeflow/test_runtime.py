"""The kfp runtime adapter against a hand-written executor input, as KFP's launcher sends it."""

from __future__ import annotations

import json
from pathlib import Path

from mlcompile.runtime import kfp

STEP = """
from mlcompile import Input, Output, Dataset, Metrics

def count(data: Input[Dataset], n: int, label: str, summary: Output[Metrics]) -> int:
    rows = open(data.path).read().splitlines()
    summary.log_metric("rows", len(rows))
    return len(rows) * n
"""


def test_executor_input_contract(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "steps.py").write_text(STEP)
    (tmp_path / "data.csv").write_text("a\nb\nc\n")
    executor_input = {
        "inputs": {
            "parameterValues": {"n": 2.0, "label__1": 7.0},
            "artifacts": {
                "data": {"artifacts": [{"name": "data", "uri": str(tmp_path / "data.csv")}]}
            },
        },
        "outputs": {
            "parameters": {"Output": {"outputFile": str(tmp_path / "out" / "Output")}},
            "artifacts": {
                "summary": {
                    "artifacts": [{"name": "summary", "uri": str(tmp_path / "out" / "summary")}]
                }
            },
            "outputFile": str(tmp_path / "out" / "executor_output.json"),
        },
    }
    code = kfp.main(
        [
            "--executor_input",
            json.dumps(executor_input),
            "--function",
            "steps.py:count",
            "--code-root",
            str(tmp_path / "code"),
            "--templates",
            json.dumps({"label": ["run ", {"input": "label__1"}]}),
        ]
    )
    assert code == 0
    output = json.loads((tmp_path / "out" / "executor_output.json").read_text())
    assert output["parameterValues"] == {"Output": 6}
    (summary,) = output["artifacts"]["summary"]["artifacts"]
    assert summary["metadata"] == {"rows": 3.0}
    assert json.loads(Path(summary["uri"]).read_text()) == {"rows": 3.0}


def test_uri_mapping() -> None:
    assert kfp.local_path("gs://b/x") == "/gcs/b/x"
    assert kfp.local_path("s3://b/x") == "/s3/b/x"
    assert kfp.local_path("/tmp/x") == "/tmp/x"
