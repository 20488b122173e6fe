"""``mlcompile ci``: write the repository's CI workflows for the given pipelines and profiles."""

from __future__ import annotations

import shlex
from pathlib import Path

from mlcompile.build import write_files
from mlcompile.ci import login
from mlcompile.ci.plan import Plan, Provider, make_plan
from mlcompile.ci.render import ensure_ours, to_yaml
from mlcompile.cli import report
from mlcompile.profiles import load_profile


def default_install() -> str:
    """How a job installs the project: with its pinned constraints when it has them."""
    pinned = " -c constraints.txt" if Path("constraints.txt").is_file() else ""
    return f'pip install --quiet{pinned} -e ".[dev]"'


def generate(plan: Plan, command: str) -> dict[str, bytes]:
    """Relative path (from the repository root, or ``--out``) to file contents."""
    if plan.provider == "gitlab":
        from mlcompile.ci import gitlab

        return {".gitlab-ci.yml": to_yaml(gitlab.pipeline(plan), command).encode()}
    from mlcompile.ci import github

    return {
        f".github/workflows/{name}": to_yaml(doc, command).encode()
        for name, doc in github.workflows(plan).items()
    }


def write_ci(
    specs: list[str],
    targets: list[str],
    *,
    provider: Provider | None,
    repository: str | None,
    branch: str | None,
    out: Path | None,
    as_json: bool,
) -> int:
    profiles = []
    for ref in targets:
        profile, path = load_profile(ref)
        profiles.append((ref, profile, path))
    plan = make_plan(
        specs,
        profiles,
        provider=provider,
        repository=repository,
        branch=branch,
        install=default_install(),
    )
    command = shlex.join(
        [
            "mlcompile",
            "ci",
            *specs,
            *[arg for t in targets for arg in ("--target", t)],
            "--provider",
            plan.provider,
            "--repository",
            plan.repository,
            "--branch",
            plan.branch,
        ]
    )
    files = generate(plan, command)
    root = out or Path(".")
    ensure_ours([root / rel for rel in files])
    write_files(root, files)
    for rel in files:  # readable by everyone, like any file in a repository
        (root / rel).chmod(0o644)
    variables: dict[str, dict[str, str]] = {}
    for target in plan.targets:
        for name, output in login.variables(target).items():
            variables.setdefault(target.environment, {})[name] = output
    written = sorted((root / rel).as_posix() for rel in files)
    result = {
        "ok": True,
        "provider": plan.provider,
        "repository": plan.repository,
        "files": written,
        "environments": {
            t.profile.name: {"environment": t.environment, "stage": t.stage, "identity": t.identity}
            for t in plan.targets
        },
        "variables": variables,
    }
    if as_json:
        report.print_json(result)
        return 0
    print(f"wrote the {plan.provider} workflows for {plan.repository}:")
    for shown in written:
        print(f"  {shown}")
    for target in plan.targets:
        print(
            f"  {target.profile.name}: {target.stage}, CI environment {target.environment!r}, "
            f"logs in as {target.identity}"
        )
    for environment, names in sorted(variables.items()):
        for name, output in sorted(names.items()):
            print(
                f"set CI variable {name} in environment {environment} to the platform stack "
                f"output {output}"
            )
    if plan.stage("staging") or plan.stage("prod"):
        print(
            "protect the staging and prod environments with required reviewers in the "
            "repository settings: promotion waits for them"
        )
    return 0
