"""The command line: exit codes, diagnostics without tracebacks, JSON output, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES, REPO

HEAVY = ("kfp", "sagemaker", "google", "pulumi", "pulumi_aws", "boto3", "botocore")


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlcompile.cli.main", *args], cwd=cwd, capture_output=True, text=True
    )


def test_check_every_example_exits_zero() -> None:
    for example in EXAMPLES:
        result = cli("check", f"examples/{example}/pipeline.py")
        assert result.returncode == 0, result.stderr
        assert "valid" in result.stdout


def test_check_json() -> None:
    result = cli("check", "examples/churn/pipeline.py", "--json")
    data = json.loads(result.stdout)
    assert data["ok"] and data["pipeline"] == "churn" and len(data["ir_hash"]) == 64
    assert "metric-condition" in data["features"] and data["steps"] == 8


def test_mistake_exits_2_with_location_code_and_hint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from mlcompile import pipeline, step\n\n@step\ndef one(x: int) -> int:\n    return x\n\n"
        "@pipeline\ndef flow():\n    one(y=1)\n"
    )
    result = cli("check", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.py:9: error MLC101 [unknown-input]" in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr + result.stdout

    as_json = cli("check", str(bad), "--json", cwd=tmp_path)
    assert as_json.returncode == 2
    (diag,) = json.loads(as_json.stdout)["diagnostics"]
    assert diag["code"] == "MLC101" and diag["line"] == 9 and diag["file"] == "bad.py"


def test_missing_file_and_unknown_profile_exit_2() -> None:
    assert cli("check", "nope.py").returncode == 2
    result = cli("check", "examples/minimal/pipeline.py", "--target", "sagemaker-deb")
    assert result.returncode == 2 and "Did you mean 'sagemaker-dev'" in result.stderr


def test_bad_profile_is_located(tmp_path: Path) -> None:
    profile = tmp_path / "broken.yaml"
    profile.write_text(
        "platform: sagemaker\ncloud: gcp\nenvironment: dev\nregion: eu-west-1\naccount: '1'\nregon: x\n"
    )
    result = cli(
        "check", str(REPO / "examples/minimal/pipeline.py"), "--target", str(profile), cwd=tmp_path
    )
    assert result.returncode == 2
    assert (
        "broken.yaml:6" in result.stderr
        and "regon" in result.stderr
        and "Did you mean 'region'" in result.stderr
    )


def test_schema_commands() -> None:
    profile = json.loads(cli("schema", "profile").stdout)
    assert "platform" in profile["properties"]
    assert "components" in json.loads(cli("schema", "ir").stdout)["$defs"]["Pipeline"]["properties"]
    assert cli("schema", "other").returncode == 2


def test_step_processes_do_not_import_pydantic() -> None:
    """A step's process imports the user's file (and so mlcompile) only to call one function."""
    code = "import sys, mlcompile; print('pydantic' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_compile_never_replaces_a_folder_it_did_not_write(tmp_path: Path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_text("mine")
    result = cli(
        "compile", "examples/minimal/pipeline.py", "-t", "kubeflow-dev", "--out", str(tmp_path)
    )
    assert result.returncode == 2 and "MLC004" in result.stderr
    assert mine.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt"
    ]
    build = tmp_path / "build"
    for _ in range(2):  # an earlier build of ours is replaced
        assert (
            cli(
                "compile", "examples/minimal/pipeline.py", "-t", "kubeflow-dev", "--out", str(build)
            ).returncode
            == 0
        )


def test_regenerated_infra_keeps_what_the_user_set(tmp_path: Path) -> None:
    import yaml

    args = ("infra", "examples/churn/pipeline.py", "-t", "sagemaker-dev", "--out", str(tmp_path))
    assert cli(*args).returncode == 0
    settings = tmp_path / "pipeline" / "Pulumi.dev.yaml"
    data = yaml.safe_load(settings.read_text())
    data["config"]["platform-stack"] = "acme/mlc-platform-aws-111122223333/dev"
    data["encryptionsalt"] = "v1:abc"
    settings.write_text(yaml.safe_dump(data))
    (tmp_path / "pipeline" / "venv").mkdir()
    assert cli(*args).returncode == 0
    again = yaml.safe_load(settings.read_text())
    assert again["config"]["platform-stack"] == "acme/mlc-platform-aws-111122223333/dev"
    assert again["encryptionsalt"] == "v1:abc" and again["config"]["aws:region"] == "eu-west-1"
    assert (tmp_path / "pipeline" / "venv").is_dir()
