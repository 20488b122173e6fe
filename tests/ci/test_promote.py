"""The promotion gate: a release promotes only what dev tested (same commit, IR hash and image
digests), says so with the IR hash, and refuses anything else with a diagnostic."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlcompile.ci.promote import gate, main, report
from mlcompile.errors import UserError
from tests.ci.conftest import DIGEST_A, DIGEST_B, compile_variant

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _stamp(build: Path, commit: str = COMMIT, dirty: bool = False) -> None:
    """The commit CI built from (a test project is not a git checkout)."""
    path = build / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["git"] = {"commit": commit, "dirty": dirty}
    path.write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("promote")
    compile_variant(root, "tested", profiles=("sagemaker-dev",))
    compile_variant(root, "release", profiles=("sagemaker-prod",))
    compile_variant(root, "other", profiles=("sagemaker-prod",), retries="5")
    image = f"444455556666.dkr.ecr.eu-west-1.amazonaws.com/mlc-prod-steps@sha256:{DIGEST_B}"
    compile_variant(root, "rebuilt", profiles=("sagemaker-prod",), image=image)
    for name in ("tested", "release", "other", "rebuilt"):
        for build in (root / name).iterdir():
            _stamp(build)
    return root


def test_the_tested_build_is_promoted(builds: Path) -> None:
    summary = gate(builds / "tested", builds / "release" / "sagemaker-prod", COMMIT)
    ir_hash = json.loads((builds / "release" / "sagemaker-prod" / "manifest.json").read_text())[
        "ir_hash"
    ]
    assert f"- IR hash: `{ir_hash}`" in summary
    assert f"- commit: `{COMMIT}`" in summary
    assert (
        f"| `produce` | `111122223333.dkr.ecr.eu-west-1.amazonaws.com/mlc-dev-steps@sha256:{DIGEST_A}` |"
        in summary
    )


def _refused(tested: Path, build: Path, commit: str = COMMIT) -> str:
    with pytest.raises(UserError) as raised:
        gate(tested, build, commit)
    assert {d.code for d in raised.value.diagnostics} == {"MLC815"}
    return str(raised.value)


def test_another_commit_is_refused(builds: Path) -> None:
    assert "was made from commit" in _refused(
        builds / "tested", builds / "release" / "sagemaker-prod", "f" * 40
    )


def test_another_pipeline_is_refused(builds: Path) -> None:
    assert "they are different pipelines" in _refused(
        builds / "tested", builds / "other" / "sagemaker-prod"
    )


def test_other_image_digests_are_refused(builds: Path) -> None:
    message = _refused(builds / "tested", builds / "rebuilt" / "sagemaker-prod")
    assert "step produce runs" in message and DIGEST_B in message


def test_uncommitted_sources_are_refused(builds: Path, tmp_path: Path) -> None:
    shutil.copytree(builds / "tested", tmp_path / "tested")
    _stamp(tmp_path / "tested" / "sagemaker-dev", dirty=True)
    assert "uncommitted" in _refused(tmp_path / "tested", builds / "release" / "sagemaker-prod")


def test_nothing_tested_is_refused(builds: Path, tmp_path: Path) -> None:
    assert "no build in" in _refused(tmp_path, builds / "release" / "sagemaker-prod")


def test_command_line_writes_the_summary(
    builds: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("MLCOMPILE_SUMMARY", str(summary))
    release = str(builds / "release" / "sagemaker-prod")
    assert main(["gate", str(builds / "tested"), release, "--commit", COMMIT]) == 0
    assert summary.read_text().startswith("### Promoted `tiny` to `sagemaker-prod`")
    assert main(["gate", str(builds / "tested"), release, "--commit", "f" * 40]) == 2
    assert "### Promotion refused" in summary.read_text()
    assert "MLC815" in capsys.readouterr().err + capsys.readouterr().out


def test_deploy_report(tmp_path: Path) -> None:
    result = tmp_path / "deploy.json"
    result.write_text(
        json.dumps(
            {
                "ok": True,
                "out": "build/ci/head/tiny/sagemaker-dev",
                "ir_hash": "ab" * 32,
                "deployment": {
                    "platform": "sagemaker",
                    "pipeline_arn": "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/mlc-dev-tiny",
                    "created": True,
                    "execution_arn": "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/mlc-dev-tiny/execution/x1",
                },
            }
        )
    )
    text = report([result])
    assert "| `build/ci/head/tiny/sagemaker-dev` | sagemaker | `abababababab` |" in text
    assert (
        "execution_arn: `arn:aws:sagemaker:eu-west-1:111122223333:pipeline/mlc-dev-tiny/execution/x1`"
        in text
    )
