"""``mlcompile ci``: the generated workflows pass zizmor (offline) with no findings and
validate against GitHub's and GitLab's published schemas; every action is pinned by commit;
only jobs that log into a cloud get an OIDC token; a file we did not write is never replaced."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mlcompile.ci.actions import ACTIONS
from mlcompile.ci.render import MARKER
from mlcompile.cli.main import app
from tests.ci.conftest import tool
from tests.conftest import REPO

TARGETS = ("sagemaker-dev", "vertex-dev", "kubeflow-azure", "sagemaker-prod")
PIPELINES = ("examples/churn/pipeline.py", "examples/minimal/pipeline.py")
REPOSITORY = "acme/churn"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with the examples and profiles, plus a staging profile to promote through."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    shutil.copytree(REPO / "targets", tmp_path / "targets")
    staging = (REPO / "targets" / "sagemaker-prod.yaml").read_text()
    (tmp_path / "targets" / "sagemaker-staging.yaml").write_text(
        staging.replace("environment: prod", "environment: staging")
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def ci(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["ci", *args])
    return result.exit_code, result.output


def generate(provider: str, *targets: str) -> None:
    flags = [f for t in targets or (*TARGETS, "sagemaker-staging") for f in ("--target", t)]
    code, out = ci(*PIPELINES, *flags, "--provider", provider, "--repository", REPOSITORY)
    assert code == 0, out


def _workflows(root: Path) -> dict[str, dict[str, Any]]:
    return {
        p.name: yaml.safe_load(p.read_text())
        for p in sorted((root / ".github" / "workflows").glob("*.yml"))
    }


def test_github_workflows_pass_zizmor_and_the_schema(project: Path) -> None:
    generate("github")
    files = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert [f.name for f in files] == [
        "mlcompile-main.yml",
        "mlcompile-pull-request.yml",
        "mlcompile-release.yml",
    ]
    zizmor = tool("zizmor")
    for persona in ("regular", "auditor"):
        run = subprocess.run(
            [
                zizmor,
                "--offline",
                "--no-progress",
                "--persona",
                persona,
                "--format",
                "json",
                *map(str, files),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert json.loads(run.stdout) == [], run.stdout
    schema = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr


def test_gitlab_pipeline_validates_against_the_schema(project: Path) -> None:
    generate(
        "gitlab",
        "sagemaker-dev",
        "vertex-dev",
        "kubeflow-azure",
        "sagemaker-staging",
        "sagemaker-prod",
    )
    path = project / ".gitlab-ci.yml"
    schema = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    document = yaml.safe_load(path.read_text())
    promote = document["promote-sagemaker-prod"]
    assert promote["needs"] == ["promote-sagemaker-staging"]
    assert promote["environment"] == {"name": "prod", "deployment_tier": "production"}
    assert promote["id_tokens"] == {"MLCOMPILE_ID_TOKEN": {"aud": "sts.amazonaws.com"}}
    assert "id_tokens" not in document["check"] and "id_tokens" not in document["test"]


def test_every_action_is_pinned_by_commit(project: Path) -> None:
    generate("github")
    pinned = re.compile(r"^([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v[\d.]+)$")
    seen = set()
    for path in (project / ".github" / "workflows").glob("*.yml"):
        for line in path.read_text().splitlines():
            if "uses:" not in line:
                continue
            match = pinned.match(line.split("uses:", 1)[1].strip())
            assert match, f"{path.name}: {line.strip()}"
            action, sha, version = match.groups()
            assert ACTIONS[action] == (sha, version)
            seen.add(action)
    assert seen == set(ACTIONS), "every pinned action is used, and only those"
    for pin in ACTIONS.values():
        assert re.fullmatch(r"[0-9a-f]{40}", pin.sha)


def _logs_in(job: dict[str, Any]) -> bool:
    return any(str(s.get("name", "")).startswith("Log in to ") for s in job["steps"])


def test_least_permissions(project: Path) -> None:
    generate("github")
    for name, workflow in _workflows(project).items():
        assert workflow["permissions"] == {}, name
        for job_name, job in workflow["jobs"].items():
            permissions = job["permissions"]
            assert permissions.get("contents") == "read", (name, job_name)
            assert (permissions.get("id-token") == "write") == _logs_in(job), (name, job_name)
            assert set(permissions) <= {"contents", "id-token", "actions"}
            assert job["runs-on"] == "ubuntu-latest"
            checkout = job["steps"][0]
            assert checkout["with"]["persist-credentials"] is False


def test_promotion_order_and_gates(project: Path) -> None:
    generate("github")
    workflows = _workflows(project)
    release = workflows["mlcompile-release.yml"]
    assert release["on"] == {"push": {"tags": ["v*"]}}
    jobs = release["jobs"]
    assert list(jobs) == ["promote-sagemaker-staging", "promote-sagemaker-prod"]
    assert jobs["promote-sagemaker-prod"]["needs"] == ["promote-sagemaker-staging"]
    assert [jobs[j]["environment"] for j in jobs] == ["staging", "prod"]
    script = "\n".join(s.get("run", "") for s in jobs["promote-sagemaker-prod"]["steps"])
    assert "python -m mlcompile.ci.promote gate build/ci/tested/examples-churn-pipeline" in script
    # The same build: the tested artifacts of the merge run are downloaded, not rebuilt.
    download = next(
        s
        for s in jobs["promote-sagemaker-prod"]["steps"]
        if "download-artifact" in s.get("uses", "")
    )
    assert download["with"]["run-id"] == "${{ steps.tested.outputs.run_id }}"
    main = workflows["mlcompile-main.yml"]
    assert main["on"] == {"push": {"branches": ["main"]}}
    assert sorted(main["jobs"]) == [
        "deploy-kubeflow-azure",
        "deploy-sagemaker-dev",
        "deploy-vertex-dev",
    ]
    deploy = "\n".join(s.get("run", "") for s in main["jobs"]["deploy-sagemaker-dev"]["steps"])
    assert "mlcompile images examples/churn/pipeline.py --target sagemaker-dev" in deploy
    assert "mlcompile deploy examples/churn/pipeline.py --target sagemaker-dev" in deploy
    pr = workflows["mlcompile-pull-request.yml"]
    check = "\n".join(s.get("run", "") for s in pr["jobs"]["check"]["steps"])
    for needed in (
        "mlcompile check examples/churn/pipeline.py --target kubeflow-azure --target sagemaker-dev"
        " --target vertex-dev --target sagemaker-staging --target sagemaker-prod\n",
        'mlcompile diff build/ci/base build/ci/head --markdown >> "$GITHUB_STEP_SUMMARY"',
        "python -m mlcompile.ci.mocks",
    ):
        assert needed in check
    assert "python -m pytest -q" in pr["jobs"]["test"]["steps"][-1]["run"]


def test_logins_name_the_environment_identity(project: Path) -> None:
    generate("github")
    main = _workflows(project)["mlcompile-main.yml"]["jobs"]
    aws = next(s for s in main["deploy-sagemaker-dev"]["steps"] if _is_login(s))
    assert aws["with"]["role-to-assume"] == "arn:aws:iam::111122223333:role/mlc-dev-ci"
    gcp = next(s for s in main["deploy-vertex-dev"]["steps"] if _is_login(s))
    assert gcp["with"]["service_account"] == "mlc-dev-ci@mlc-dev-project.iam.gserviceaccount.com"
    assert gcp["with"]["workload_identity_provider"] == (
        "${{ vars.MLCOMPILE_VERTEX_DEV_WORKLOAD_IDENTITY_PROVIDER }}"
    )
    azure = next(s for s in main["deploy-kubeflow-azure"]["steps"] if _is_login(s))
    assert azure["with"]["client-id"] == "${{ vars.MLCOMPILE_KUBEFLOW_AZURE_AZURE_CLIENT_ID }}"


def _is_login(step: dict[str, Any]) -> bool:
    return str(step.get("name", "")).startswith("Log in to ")


def test_output_is_deterministic(project: Path) -> None:
    generate("github")
    first = {p.name: p.read_bytes() for p in (project / ".github" / "workflows").iterdir()}
    generate("github")
    assert first == {p.name: p.read_bytes() for p in (project / ".github" / "workflows").iterdir()}


def test_a_workflow_we_did_not_write_is_refused(project: Path) -> None:
    theirs = project / ".github" / "workflows" / "mlcompile-main.yml"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("name: the team's own\non: push\njobs: {}\n")
    code, out = ci(PIPELINES[0], "--target", "sagemaker-dev", "--repository", REPOSITORY)
    assert code == 2 and "MLC805" in out and "mlcompile-main.yml" in out, out
    assert theirs.read_text() == "name: the team's own\non: push\njobs: {}\n"
    assert not (theirs.parent / "mlcompile-pull-request.yml").exists(), "nothing is written"
    theirs.unlink()
    generate("github")
    ours = theirs.read_text()
    assert ours.startswith(MARKER)
    generate("github", "sagemaker-dev")  # ours is replaced
    assert theirs.read_text() != ours


def test_problems_are_located_diagnostics(project: Path) -> None:
    code, out = ci(PIPELINES[0], "--target", "sagemaker-dev")
    assert code == 2 and "MLC801" in out and "--repository" in out, out
    odd = (
        (project / "targets" / "sagemaker-dev.yaml")
        .read_text()
        .replace("environment: dev", "environment: qa")
    )
    (project / "targets" / "sagemaker-qa.yaml").write_text(odd)
    code, out = ci(PIPELINES[0], "--target", "sagemaker-qa", "--repository", REPOSITORY)
    line = odd.splitlines().index("environment: qa") + 1
    assert code == 2 and f"targets/sagemaker-qa.yaml:{line}: error MLC802" in out, out
    code, out = ci("nope.py", "--target", "sagemaker-dev", "--repository", REPOSITORY)
    assert code == 2 and "MLC804" in out
    code, out = ci(
        PIPELINES[0],
        "--target",
        "kubeflow-azure",
        "--target",
        "sagemaker-prod",
        "--repository",
        "not a repo",
    )
    assert code == 2 and "MLC801" in out
    assert "Traceback" not in out
    assert not (project / ".github").exists()


def test_repository_from_the_profile(project: Path) -> None:
    path = project / "targets" / "sagemaker-dev.yaml"
    path.write_text(path.read_text() + "ci:\n  repository: acme/from-profile\n  branch: trunk\n")
    code, out = ci(PIPELINES[0], "--target", "sagemaker-dev", "--json")
    assert code == 0, out
    assert json.loads(out)["repository"] == "acme/from-profile"
    main = _workflows(project)["mlcompile-main.yml"]
    assert main["on"] == {"push": {"branches": ["trunk"]}}


def test_promotion_logs_in_to_the_tested_and_the_target_registry(project: Path) -> None:
    """skopeo reads the dev registry and pushes to the promoted environment's, both with the
    job's own short-lived credentials, before the images are copied."""
    generate("github")
    jobs = _workflows(project)["mlcompile-release.yml"]["jobs"]
    script = "\n".join(s.get("run", "") for s in jobs["promote-sagemaker-prod"]["steps"])
    hosts = (
        "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
        "444455556666.dkr.ecr.eu-west-1.amazonaws.com",
    )
    for host in hosts:
        login = f"aws ecr get-login-password --region eu-west-1 | skopeo login --username AWS --password-stdin {host}"
        assert script.index(login) < script.index("--from build/ci/tested/")
    assert 'export REGISTRY_AUTH_FILE="$(mktemp -d)/registry-auth.json"' in script
    generate("gitlab")
    document = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    lines = "\n".join(document["promote-sagemaker-prod"]["script"])
    assert all(f"--password-stdin {host}" in lines for host in hosts)
