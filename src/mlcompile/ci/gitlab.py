"""The same pipeline for GitLab CI, in one ``.gitlab-ci.yml``: merge requests are checked,
built and diffed; the main branch deploys to dev; a release tag promotes the tested build to
staging, then prod, each a protected GitLab environment. Cloud logins exchange the job's ID
token (``id_tokens``) for short-lived credentials; no cloud key is stored in CI variables."""

from __future__ import annotations

from typing import Any

from mlcompile.ci import login, scripts
from mlcompile.ci.plan import AUDIENCES, Plan, Target

IMAGE = "python:3.12"
_MR = {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}
_TAG = {"if": "$CI_COMMIT_TAG =~ /^v/"}


def _main_branch(plan: Plan) -> dict[str, str]:
    return {"if": f'$CI_COMMIT_BRANCH == "{plan.branch}" && $CI_PIPELINE_SOURCE == "push"'}


def _setup(plan: Plan) -> list[str]:
    return [
        "test -x .venv/bin/python || python -m venv .venv",
        f".venv/bin/python -m {plan.install}",
        'export PATH="$CI_PROJECT_DIR/.venv/bin:$PATH"',
    ]


def _cloud(target: Target) -> dict[str, Any]:
    return {
        login.TOKEN: {"aud": AUDIENCES[target.profile.cloud]},
    }


def _deploy(plan: Plan, target: Target) -> dict[str, Any]:
    return {
        "stage": "deploy",
        "rules": [_main_branch(plan)],
        "environment": {"name": target.environment, "deployment_tier": "development"},
        "id_tokens": _cloud(target),
        "resource_group": f"mlcompile-{target.environment}",
        "script": [
            *_setup(plan),
            *login.gitlab_script(target),
            *scripts.install_pulumi(),
            *scripts.images_and_deploy(plan, target),
            *scripts.smoke_report(plan, target),
        ],
        "artifacts": {
            "name": f"mlcompile-build-{target.job}",
            "paths": [plan.build_dir(p, target, scripts.HEAD) for p in plan.pipelines]
            + [plan.build_dir(p, target, scripts.HEAD) + ".deploy.json" for p in plan.pipelines],
            "expire_in": "90 days",
        },
    }


def _fetch_tested(plan: Plan) -> list[str]:
    """The artifacts of the dev deploys on the main branch; the gate then proves they were made
    from this tag's commit."""
    lines = []
    for target in plan.stage("dev"):
        job = f"deploy-{target.job}"
        lines += [
            'curl --fail --silent --show-error --location --header "JOB-TOKEN: $CI_JOB_TOKEN" '
            f'--output tested.zip "$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/'
            f'{plan.branch}/download?job={job}"',
            "python -m zipfile -e tested.zip tested-zip && rm tested.zip",
        ]
    lines += [
        f"mkdir -p {scripts.TESTED}",
        f"if [ -d tested-zip/{scripts.HEAD} ]; then cp -R tested-zip/{scripts.HEAD}/. "
        f"{scripts.TESTED}/; fi",
    ]
    return lines


def _promote(plan: Plan, target: Target, needs: list[str]) -> dict[str, Any]:
    tier = "production" if target.stage == "prod" else "staging"
    return {
        "stage": target.stage,
        "rules": [_TAG],
        "needs": needs,
        "environment": {"name": target.environment, "deployment_tier": tier},
        "id_tokens": _cloud(target),
        "resource_group": f"mlcompile-{target.environment}",
        "variables": {
            "MLCOMPILE_COMMIT": "$CI_COMMIT_SHA",
            "MLCOMPILE_SUMMARY": "promotion.md",
        },
        "script": [
            *_setup(plan),
            *_fetch_tested(plan),
            *login.gitlab_script(target),
            *scripts.install_pulumi(),
            *scripts.promote(plan, target),
            "cat promotion.md",
        ],
        "artifacts": {"when": "always", "paths": ["promotion.md"], "expire_in": "1 year"},
    }


def pipeline(plan: Plan) -> dict[str, Any]:
    jobs: dict[str, Any] = {
        "check": {
            "stage": "check",
            "rules": [_MR],
            "variables": {"GIT_DEPTH": "0"},
            "script": [
                *_setup(plan),
                *scripts.check(plan),
                *scripts.compile_all(plan, scripts.HEAD),
                'export MLCOMPILE_BASE_TREE="$CI_BUILDS_DIR/mlcompile-base-$CI_JOB_ID"',
                *scripts.base_compile(
                    plan, "$CI_PROJECT_DIR", "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME", True
                ),
                f"{scripts.diff(markdown=True)} > build-diff.md",
                scripts.diff(markdown=False),
                *scripts.mocks(plan),
            ],
            "artifacts": {
                "expose_as": "build diff",
                "paths": ["build-diff.md"],
                "expire_in": "30 days",
            },
        },
        "test": {"stage": "test", "rules": [_MR], "script": [*_setup(plan), "python -m pytest -q"]},
    }
    for target in plan.stage("dev"):
        jobs[f"preview-{target.job}"] = {
            "stage": "test",
            "rules": [_MR],
            "needs": ["check"],
            "environment": {"name": target.environment, "action": "prepare"},
            "id_tokens": _cloud(target),
            "script": [
                *_setup(plan),
                *scripts.compile_all(plan, scripts.HEAD),
                *login.gitlab_script(target),
                *scripts.preview(plan, target),
            ],
        }
        jobs[f"deploy-{target.job}"] = _deploy(plan, target)
    previous: list[str] = []
    for stage in ("staging", "prod"):
        names = []
        for target in plan.stage(stage):
            name = f"promote-{target.job}"
            jobs[name] = _promote(plan, target, previous)
            names.append(name)
        previous = names or previous
    return {
        "workflow": {"rules": [_MR, _main_branch(plan), _TAG]},
        "stages": ["check", "test", "deploy", "staging", "prod"],
        "default": {
            "image": IMAGE,
            "cache": {
                "key": {"files": ["pyproject.toml"], "prefix": "mlcompile-venv"},
                "paths": [".venv/"],
            },
        },
        **jobs,
    }
