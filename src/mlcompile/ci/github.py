"""GitHub Actions workflows: a pull request is checked, built and diffed; a merge to the main
branch deploys to dev; a release tag promotes the tested build to staging, then prod.

Every job asks for the least it needs (``contents: read``; ``id-token: write`` only where a
cloud login happens), every action is pinned by commit, and no job stores a cloud key.
"""

from __future__ import annotations

from typing import Any

from mlcompile.ci import login, scripts
from mlcompile.ci.actions import uses
from mlcompile.ci.plan import RELEASE_TAG, Plan, Target

RUNNER = "ubuntu-latest"
PYTHON = "3.12"
PR_WORKFLOW = "mlcompile-pull-request.yml"
MAIN_WORKFLOW = "mlcompile-main.yml"
RELEASE_WORKFLOW = "mlcompile-release.yml"
READ = {"contents": "read"}
CLOUD = {"contents": "read", "id-token": "write"}


def workflows(plan: Plan) -> dict[str, dict[str, Any]]:
    """File name (in ``.github/workflows/``) to workflow document."""
    files = {PR_WORKFLOW: _pull_request(plan), MAIN_WORKFLOW: _main(plan)}
    if plan.stage("staging") or plan.stage("prod"):
        files[RELEASE_WORKFLOW] = _release(plan)
    return files


def _run(name: str, lines: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"name": name, "run": "\n".join(lines) + "\n"}
    if env:
        step["env"] = env
    return step


def _setup(plan: Plan, *, cache: bool = True, fetch_all: bool = False) -> list[dict[str, Any]]:
    """Check out, set up Python and the project's virtualenv (cached between runs)."""
    checkout: dict[str, Any] = {"persist-credentials": False}
    if fetch_all:
        checkout["fetch-depth"] = 0
    steps: list[dict[str, Any]] = [
        {"name": "Check out", "uses": uses("actions/checkout"), "with": checkout},
        {
            "name": "Set up Python",
            "uses": uses("actions/setup-python"),
            "with": {"python-version": PYTHON},
        },
    ]
    if cache:
        steps.append(
            {
                "name": "Cache the virtualenv",
                "uses": uses("actions/cache"),
                "with": {
                    "path": ".venv",
                    "key": "mlcompile-venv-${{ runner.os }}-py" + PYTHON + "-"
                    "${{ hashFiles('pyproject.toml', 'constraints.txt', 'requirements*.txt') }}",
                },
            }
        )
    steps.append(
        _run(
            "Install",
            [
                "test -x .venv/bin/python || python -m venv .venv",
                f".venv/bin/python -m {plan.install}",
                'echo "$PWD/.venv/bin" >> "$GITHUB_PATH"',
            ],
        )
    )
    return steps


def _job(
    name: str,
    steps: list[dict[str, Any]],
    *,
    permissions: dict[str, str],
    environment: str | None = None,
    needs: list[str] | None = None,
    condition: str | None = None,
    minutes: int = 30,
) -> dict[str, Any]:
    job: dict[str, Any] = {"name": name, "runs-on": RUNNER, "timeout-minutes": minutes}
    if needs:
        job["needs"] = needs
    if condition:
        job["if"] = condition
    if environment:
        job["environment"] = environment
    job["permissions"] = permissions
    job["steps"] = steps
    return job


def _pull_request(plan: Plan) -> dict[str, Any]:
    jobs: dict[str, Any] = {
        "check": _job(
            "Check, compile, and diff against the target branch",
            [
                *_setup(plan, fetch_all=True),
                _run("Check every pipeline against every profile", scripts.check(plan)),
                _run("Compile every profile", scripts.compile_all(plan, scripts.HEAD)),
                _run(
                    "Compile the target branch",
                    scripts.base_compile(plan, "$GITHUB_WORKSPACE", "origin/$BASE_REF", False),
                    {
                        "BASE_REF": "${{ github.base_ref }}",
                        "MLCOMPILE_BASE_TREE": "${{ runner.temp }}/base",
                    },
                ),
                _run(
                    "Post the build diff as the job summary",
                    [
                        f'{scripts.diff(markdown=True)} >> "$GITHUB_STEP_SUMMARY"',
                        scripts.diff(markdown=False),
                    ],
                ),
                _run("Run the infra programs under mocks", scripts.mocks(plan)),
            ],
            permissions=READ,
        ),
        "test": _job(
            "Test suite",
            [*_setup(plan), _run("Run the tests", ["python -m pytest -q"])],
            permissions=READ,
        ),
    }
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    for target in plan.stage("dev"):
        jobs[f"preview-{target.job}"] = _job(
            f"Pulumi preview on {target.profile.name}",
            [
                *_setup(plan),
                _run("Compile and generate the stack", scripts.compile_all(plan, scripts.HEAD)),
                login.github_step(target),
                _run("Preview the stack", scripts.preview(plan, target)),
            ],
            permissions=CLOUD,
            environment=target.environment,
            # A fork's pull request gets no OIDC token and must not reach the cloud.
            condition=same_repo,
            needs=["check"],
        )
    return {
        "name": "mlcompile pull request",
        "on": {"pull_request": {"branches": [plan.branch]}},
        "permissions": {},
        "concurrency": {
            "group": "mlcompile-pr-${{ github.event.pull_request.number }}",
            "cancel-in-progress": True,
        },
        "jobs": jobs,
    }


def _deploy_job(plan: Plan, target: Target) -> dict[str, Any]:
    artifact = f"mlcompile-build-{target.job}"
    return _job(
        f"Build images, deploy to {target.environment} ({target.profile.name}), smoke run",
        [
            *_setup(plan, cache=False),
            login.github_step(target),
            _run("Install the Pulumi CLI", scripts.install_pulumi()),
            _run(
                "Build and push images, deploy, start a smoke run",
                [*scripts.install_pulumi()[1:], *scripts.images_and_deploy(plan, target)],
                {"PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}"},
            ),
            {
                # Also when the smoke run failed (deploy --wait exits 1): the summary says how.
                "if": "${{ !cancelled() }}",
                **_run(
                    "Report the smoke run",
                    [
                        f'{line} >> "$GITHUB_STEP_SUMMARY"'
                        for line in scripts.smoke_report(plan, target)
                    ],
                ),
            },
            {
                "name": "Keep the tested build for promotion",
                "uses": uses("actions/upload-artifact"),
                "with": {
                    "name": artifact,
                    # Only this target's builds are in the folder: the artifact keeps their
                    # <pipeline>/<profile> layout, so promotion finds each one.
                    "path": scripts.HEAD,
                    "retention-days": 90,
                    "if-no-files-found": "error",
                },
            },
        ],
        permissions=CLOUD,
        environment=target.environment,
        minutes=60,
    )


def _main(plan: Plan) -> dict[str, Any]:
    jobs = {f"deploy-{t.job}": _deploy_job(plan, t) for t in plan.stage("dev")}
    if not jobs:
        jobs["check"] = _job(
            "Check every pipeline",
            [*_setup(plan, cache=False), _run("Check", scripts.check(plan))],
            permissions=READ,
        )
    return {
        "name": "mlcompile main",
        "on": {"push": {"branches": [plan.branch]}},
        "permissions": {},
        "concurrency": {"group": "mlcompile-main", "cancel-in-progress": False},
        "jobs": jobs,
    }


def _promote_job(plan: Plan, target: Target, needs: list[str]) -> dict[str, Any]:
    return _job(
        f"Promote to {target.environment} ({target.profile.name})",
        [
            *_setup(plan, cache=False),
            _run(
                "Find the merge run that tested this commit",
                [
                    'run_id=$(gh run list --workflow "$WORKFLOW" --commit "$GITHUB_SHA" '
                    "--status success --limit 1 --json databaseId --jq '.[0].databaseId')",
                    'test -n "$run_id" || { echo "no successful $WORKFLOW run for $GITHUB_SHA"; exit 1; }',
                    'echo "run_id=$run_id" >> "$GITHUB_OUTPUT"',
                ],
                {"GH_TOKEN": "${{ github.token }}", "WORKFLOW": MAIN_WORKFLOW},
            )
            | {"id": "tested"},
            {
                "name": "Download the tested build",
                "uses": uses("actions/download-artifact"),
                "with": {
                    "pattern": "mlcompile-build-*",
                    "merge-multiple": True,
                    "path": scripts.TESTED,
                    "run-id": "${{ steps.tested.outputs.run_id }}",
                    "github-token": "${{ github.token }}",
                },
            },
            login.github_step(target),
            _run("Install the Pulumi CLI", scripts.install_pulumi()),
            _run(
                "Promote the tested build (same commit, IR and image digests)",
                [*scripts.install_pulumi()[1:], *scripts.promote(plan, target)],
                {
                    "MLCOMPILE_COMMIT": "${{ github.sha }}",
                    "MLCOMPILE_SUMMARY": "${{ runner.temp }}/promotion.md",
                    "PULUMI_BACKEND_URL": "${{ vars.PULUMI_BACKEND_URL }}",
                },
            ),
            _run(
                "Show what was promoted",
                ['cat "$MLCOMPILE_SUMMARY" >> "$GITHUB_STEP_SUMMARY"'],
                {"MLCOMPILE_SUMMARY": "${{ runner.temp }}/promotion.md"},
            )
            | {"if": "always()"},
        ],
        permissions={"actions": "read", **CLOUD},
        environment=target.environment,
        needs=needs or None,
        minutes=60,
    )


def _release(plan: Plan) -> dict[str, Any]:
    jobs: dict[str, Any] = {}
    previous: list[str] = []
    for stage in ("staging", "prod"):
        names = []
        for target in plan.stage(stage):
            name = f"promote-{target.job}"
            jobs[name] = _promote_job(plan, target, previous)
            names.append(name)
        previous = names or previous
    return {
        "name": "mlcompile release",
        "on": {"push": {"tags": [RELEASE_TAG]}},
        "permissions": {},
        "concurrency": {"group": "mlcompile-release", "cancel-in-progress": False},
        "jobs": jobs,
    }
