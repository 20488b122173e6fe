"""Valid pipelines that were refused on SageMaker because of names the DSL gave them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.valid_pipelines import LONG, LONG_NAMES, compile_for, emulate, write


def test_a_step_name_at_the_limit_called_twice(tmp_path: Path) -> None:
    path = write(tmp_path, "long_names", LONG_NAMES)
    steps = json.loads(compile_for(path, "sagemaker-dev")["pipeline.json"])["Steps"]
    assert [s["Name"] for s in steps] == [LONG, LONG[:62] + "_2"]
    run = emulate(path, "sagemaker-dev", tmp_path / "store")
    assert run["status"] == "succeeded" and run["outputs"] == {"output": 3}, run
