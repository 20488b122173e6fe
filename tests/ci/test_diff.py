"""``mlcompile diff`` on builds that differ in one thing each, on identical builds, on a git
revision against the working tree, and on folders that hold no build."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mlcompile.cli.main import app
from tests.ci.conftest import DIGEST_A, DIGEST_B, EXTRA_STEP, PROFILES, compile_variant

#: Aspects a source edit changes on every step, besides the one it is about: the step's code
#: travels in its command (Kubeflow embeds the module) or in a code bundle named by its hash.
CODE = {"command", "other"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_variant(tmp_path_factory.mktemp("diff"), "base")


def diff(a: Path | str, b: Path, *flags: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["diff", str(a), str(b), *flags])
    return result.exit_code, result.output


def entries(a: Path, b: Path) -> dict[str, Any]:
    code, out = diff(a, b, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["identical"] is (not data["builds"])
    return {e["build"]: e for e in data["builds"]}


def test_identical_builds_print_nothing(base: Path, tmp_path: Path) -> None:
    again = compile_variant(tmp_path, "again")
    assert diff(base, again) == (0, "")
    assert diff(base, again, "--markdown") == (0, "")
    assert json.loads(diff(base, again, "--json")[1]) == {
        "ok": True,
        "identical": True,
        "builds": [],
    }


def _only_the_definition(entry: dict[str, Any]) -> None:
    """A spec change reaches the stacks only where a stack holds the spec: the SageMaker
    pipeline resource's definition (Kubeflow's pipeline is uploaded by deploy, not the stack)."""
    if entry["platform"] != "sagemaker":
        assert "resources" not in entry
        return
    resources = entry["resources"]
    assert not resources["added"] and not resources["removed"]
    (name,) = resources["changed"]
    assert name == "pipeline aws:sagemaker/pipeline:Pipeline pipeline"
    paths = [c["path"] for c in resources["changed"][name]]
    assert paths and all(p.startswith("inputs.pipelineDefinition.") for p in paths), paths


def _only(entry: dict[str, Any], step: str, aspect: str) -> list[dict[str, Any]]:
    """The changes of ``aspect`` on ``step``, after checking nothing else moved but code."""
    changed = entry["steps"]["changed"]
    assert aspect in changed[step], changed
    for name, aspects in changed.items():
        assert set(aspects) <= {aspect} | CODE, (name, aspects)
    assert not entry["steps"]["added"] and not entry["steps"]["removed"]
    assert "parameters" not in entry
    _only_the_definition(entry)
    found: list[dict[str, Any]] = changed[step][aspect]
    return found


@pytest.mark.parametrize("profile", PROFILES)
def test_image_digest(base: Path, tmp_path: Path, profile: str) -> None:
    image = f"111122223333.dkr.ecr.eu-west-1.amazonaws.com/mlc-dev-steps@sha256:{DIGEST_B}"
    entry = entries(base, compile_variant(tmp_path, "image", image=image))[profile]
    for step in ("produce", "square"):
        (change,) = _only(entry, step, "image")
        assert change["before"].endswith(DIGEST_A) and change["after"].endswith(DIGEST_B)
    assert "IR" in diff(base, tmp_path / "image")[1]


def test_retries(base: Path, tmp_path: Path) -> None:
    got = entries(base, compile_variant(tmp_path, "retries", retries="4"))
    assert _only(got["kubeflow-dev"], "produce", "retries") == [
        {"path": "maxRetryCount", "before": 1, "after": 4}
    ]
    sagemaker = _only(got["sagemaker-dev"], "produce", "retries")
    assert {(c["before"], c["after"]) for c in sagemaker} == {(1, 4)}


def test_resources(base: Path, tmp_path: Path) -> None:
    # 8 CPUs need a larger SageMaker instance; 2 would still fit the smallest one.
    got = entries(base, compile_variant(tmp_path, "cpu", cpu="8"))
    kubeflow = {
        c["path"]: (c["before"], c["after"])
        for c in _only(got["kubeflow-dev"], "produce", "resources")
    }
    assert kubeflow["cpuLimit"] == (1.0, 8.0)
    sagemaker = _only(got["sagemaker-dev"], "produce", "resources")
    assert [c["path"] for c in sagemaker] == ["ProcessingResources.ClusterConfig.InstanceType"]


def test_caching(base: Path, tmp_path: Path) -> None:
    got = entries(base, compile_variant(tmp_path, "cache", cache="False"))
    # KFP leaves enableCache out when it is false; SageMaker writes Enabled: false.
    assert _only(got["kubeflow-dev"], "produce", "caching") == [
        {"path": "enableCache", "before": True, "after": None}
    ]
    assert _only(got["sagemaker-dev"], "produce", "caching") == [
        {"path": "Enabled", "before": True, "after": False}
    ]


def test_condition(base: Path, tmp_path: Path) -> None:
    got = entries(base, compile_variant(tmp_path, "condition", threshold="5"))
    for profile in PROFILES:
        changes = _only(got[profile], "square", "conditions")
        assert any("5" in json.dumps(c["after"]) for c in changes), changes
        assert "conditions" not in got[profile]["steps"]["changed"].get("produce", {})


def test_parameter_default(base: Path, tmp_path: Path) -> None:
    got = entries(base, compile_variant(tmp_path, "default", default="9"))
    for profile in PROFILES:
        parameters = got[profile]["parameters"]
        assert list(parameters["changed"]) == ["start"]
        assert not parameters["added"] and not parameters["removed"]
        assert {json.dumps(c["after"]) for c in parameters["changed"]["start"]} <= {"9", "9.0"}


def test_step_added_and_removed(base: Path, tmp_path: Path) -> None:
    more = compile_variant(
        tmp_path, "more", extra_step=EXTRA_STEP, extra_call="report(value=first.output)"
    )
    for profile in PROFILES:
        assert entries(base, more)[profile]["steps"]["added"] == ["report"]
        assert entries(more, base)[profile]["steps"]["removed"] == ["report"]
    text = diff(base, more)[1]
    assert "step added: report" in text
    markdown = diff(base, more, "--markdown")[1]
    assert (
        markdown.startswith("## mlcompile build diff")
        and "### `kubeflow-dev` (kubeflow)" in markdown
    )


def test_infra_resources(base: Path, tmp_path: Path) -> None:
    """A schedule is the SageMaker stack's (an EventBridge schedule and its role, as the
    programs register them under mocks) and Kubeflow deploy's (a recurring run, no resource)."""
    scheduled = compile_variant(tmp_path, "scheduled", schedule='(schedule="0 3 * * 1")')
    got = entries(base, scheduled)
    assert "resources" not in got["kubeflow-dev"]
    assert "schedule.yaml" in got["kubeflow-dev"]["files"]["added"]
    resources = got["sagemaker-dev"]["resources"]
    assert resources["added"] == [
        "pipeline aws:iam/role:Role schedule-role",
        "pipeline aws:iam/rolePolicy:RolePolicy schedule-policy",
        "pipeline aws:scheduler/schedule:Schedule schedule",
        "pipeline mlcompile:aws:PipelineSchedule schedule",
    ]
    assert not resources["removed"]
    assert list(resources["changed"]) == ["pipeline aws:sagemaker/pipeline:Pipeline pipeline"]
    text = diff(base, scheduled)[1]
    assert "resource added: pipeline aws:scheduler/schedule:Schedule schedule" in text


def test_platform_stack_resources(base: Path, tmp_path: Path) -> None:
    """A profile setting that changes only the shared platform stack shows there: an alert
    address is one SNS subscription more, and the subscription's inputs say where it goes."""
    mailed = compile_variant(
        tmp_path, "mailed", profile_extra="alerts:\n  emails: [oncall@example.com]\n"
    )
    got = entries(base, mailed)
    for profile in PROFILES:
        entry = got[profile]
        assert "steps" not in entry and "ir_hash" not in entry, entry
        (added,) = entry["resources"]["added"]
        assert added.startswith(
            "platform aws:sns/topicSubscription:TopicSubscription alerts-email-"
        )
        assert not entry["resources"]["removed"] and not entry["resources"]["changed"]
    code, out = diff(mailed, base, "--json")
    assert code == 0
    (entry, *_) = json.loads(out)["builds"]
    assert entry["resources"]["removed"] == [added]


def test_a_changed_policy_shows_the_statement_that_changed(base: Path, tmp_path: Path) -> None:
    """Policies are JSON strings in the inputs; the diff parses them, so a change is shown at
    the statement's field, not as one long string."""
    edited = tmp_path / "edited"
    shutil.copytree(base, edited)
    program = edited / "sagemaker-dev" / "infra" / "platform" / "mlcompile_infra" / "aws.py"
    source = program.read_text(encoding="utf-8")
    assert source.count('"Sid": "EventBridgeRulesPublish"') == 1
    program.write_text(source.replace('"Sid": "EventBridgeRulesPublish"', '"Sid": "RulesPublish"'))
    entry = entries(base, edited)["sagemaker-dev"]
    (name,) = entry["resources"]["changed"]
    assert name == "platform aws:sns/topicPolicy:TopicPolicy alerts-policy"
    assert entry["resources"]["changed"][name] == [
        {
            "path": "inputs.policy.Statement[1].Sid",
            "before": "EventBridgeRulesPublish",
            "after": "RulesPublish",
        }
    ]
    assert (
        "inputs.policy.Statement[1].Sid: EventBridgeRulesPublish -> RulesPublish"
        in diff(base, edited)[1]
    )


def test_a_stack_program_that_fails_is_a_clear_error(base: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(base, broken)
    (broken / "sagemaker-dev" / "infra" / "pipeline" / "__main__.py").write_text(
        "raise SystemExit('no')\n"
    )
    code, out = diff(base, broken)
    assert code == 2
    assert "MLC812" in out and "sagemaker-dev/infra" in out and "Traceback" not in out


def test_build_added_and_removed(base: Path, tmp_path: Path) -> None:
    only_kubeflow = compile_variant(tmp_path, "kfp", profiles=("kubeflow-dev",))
    got = entries(base, only_kubeflow)
    # kubeflow-dev shared its account's platform stack with sagemaker-dev: that stack (and the
    # record of generated files) changes when sagemaker-dev goes, and nothing else does.
    kubeflow = got.pop("kubeflow-dev")
    assert set(kubeflow) - {"status"} == {"build", "profile", "platform", "files"}, kubeflow
    assert not kubeflow["files"]["added"] and not kubeflow["files"]["removed"]
    assert all(
        f == "infra/.mlcompile-files.json" or f.startswith("infra/platform/")
        for f in kubeflow["files"]["changed"]
    ), kubeflow["files"]
    assert got == {
        "sagemaker-dev": {
            "build": "sagemaker-dev",
            "profile": "sagemaker-dev",
            "platform": "sagemaker",
            "status": "removed",
            "ir_hash": json.loads((base / "sagemaker-dev" / "manifest.json").read_text())[
                "ir_hash"
            ],
        }
    }


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_revision_against_working_tree(base: Path, tmp_path: Path) -> None:
    """The build as committed at a revision, against the same folder in the working tree."""
    import shutil

    repo = tmp_path / "repo"
    shutil.copytree(base, repo / "build")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "build")
    assert diff("HEAD", repo / "build") == (0, "")
    shutil.rmtree(repo / "build")
    shutil.copytree(compile_variant(tmp_path, "retries", retries="4"), repo / "build")
    code, out = diff("HEAD", repo / "build", "--json")
    assert code == 0, out
    got = {e["build"]: e for e in json.loads(out)["builds"]}
    assert "retries" in got["kubeflow-dev"]["steps"]["changed"]["produce"]
    code, out = diff("no-such-revision", repo / "build")
    assert code == 2 and "MLC811" in out


def test_not_a_build(base: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out = diff(tmp_path / "empty", base)
    assert code == 2 and "MLC810" in out, out
    assert "Traceback" not in out
