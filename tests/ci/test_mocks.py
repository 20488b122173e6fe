"""What a pull request's CI job runs on every generated stack: the program under mocks, then
the security rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcompile.ci import mocks
from tests.ci.conftest import compile_variant


def test_generated_stack_runs_under_mocks_and_passes_the_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    built = compile_variant(tmp_path, "stack", profiles=("sagemaker-dev",))
    infra = built / "sagemaker-dev" / "infra"
    assert mocks.main([str(infra)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{infra.as_posix()}: ") and out.endswith(" 0 rule violations\n")
    count = int(out.split(": ", 1)[1].split(" ", 1)[0])
    assert count > 10


def test_a_broken_program_fails_the_job(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    built = compile_variant(tmp_path, "broken", profiles=("sagemaker-dev",))
    infra = built / "sagemaker-dev" / "infra"
    (infra / "pipeline" / "__main__.py").write_text("raise RuntimeError('no such bucket')\n")
    assert mocks.main([str(infra)]) == 1
    assert "the program failed under mocks: RuntimeError: no such bucket" in capsys.readouterr().out
