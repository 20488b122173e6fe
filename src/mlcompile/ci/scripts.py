"""The shell commands each CI job runs, the same for every CI provider: the workflows differ in
how jobs are triggered, gated and logged in, not in what they do."""

from __future__ import annotations

import shlex

from mlcompile.ci.plan import Pipeline, Plan, Target

HEAD = "build/ci/head"
BASE = "build/ci/base"
#: Where the tested build of a merge is put back when a release promotes it.
TESTED = "build/ci/tested"
#: How long the dev deploy waits for its smoke run to end.
SMOKE_SECONDS = 2400  # within the job's 60 minutes, images and deploy included


def q(text: str) -> str:
    return shlex.quote(text)


def check(plan: Plan) -> list[str]:
    targets = " ".join(f"--target {q(t.ref)}" for t in plan.targets)
    return [f"mlcompile check {q(p.spec)} {targets}" for p in plan.pipelines]


def compile_all(plan: Plan, root: str, *, tolerate: bool = False) -> list[str]:
    """Compile every pipeline for every profile and generate its stack, into ``root``."""
    lines = []
    for pipeline in plan.pipelines:
        for target in plan.targets:
            lines.extend(_compile(plan, pipeline, target, root, tolerate=tolerate))
    return lines


def _compile(
    plan: Plan, pipeline: Pipeline, target: Target, root: str, *, tolerate: bool = False
) -> list[str]:
    out = plan.build_dir(pipeline, target, root)
    spec, ref = q(pipeline.spec), q(target.ref)
    commands = [
        f"mlcompile compile {spec} --target {ref} --out {q(out)}",
        f"mlcompile infra {spec} --target {ref} --out {q(out + '/infra')}",
    ]
    if not tolerate:
        return commands
    # The target branch may not have this pipeline or profile yet: the diff then shows it added.
    file = q(pipeline.spec.split(":", 1)[0])
    return [
        f"if [ -f {file} ]; then {c} || echo 'not buildable at the target branch: {out}'; fi"
        for c in commands
    ]


def base_compile(plan: Plan, workspace: str, base: str, fetch: bool) -> list[str]:
    """Compile the target branch in a worktree beside the checkout, with the same mlcompile,
    then bring its builds back as ``BASE``. With ``fetch`` the branch is fetched first (a
    merge request pipeline has only its own ref); otherwise ``base`` is already a ref."""
    lines = []
    if fetch:
        lines.append(f'git fetch --no-tags origin "{base}"')
        base = "FETCH_HEAD"
    lines += [
        f'git worktree add --detach "$MLCOMPILE_BASE_TREE" "{base}"',
        'cd "$MLCOMPILE_BASE_TREE"',
        *compile_all(plan, BASE, tolerate=True),
        f'mkdir -p "{workspace}/{BASE}"',
        f'if [ -d {BASE} ]; then cp -R {BASE}/. "{workspace}/{BASE}/"; fi',
        f'cd "{workspace}"',
    ]
    return lines


def diff(markdown: bool) -> str:
    return f"mlcompile diff {BASE} {HEAD}" + (" --markdown" if markdown else "")


def mocks(plan: Plan) -> list[str]:
    folders = " ".join(
        q(plan.build_dir(p, t, HEAD) + "/infra") for p in plan.pipelines for t in plan.targets
    )
    return [f"python -m mlcompile.ci.mocks {folders}"]


def preview(plan: Plan, target: Target) -> list[str]:
    lines = [
        "if ! command -v pulumi >/dev/null; then",
        "  echo 'The Pulumi CLI is not on this runner: preview skipped.'",
        "  exit 0",
        "fi",
    ]
    for pipeline in plan.pipelines:
        infra = q(plan.build_dir(pipeline, target, HEAD) + "/infra")
        env = q(target.profile.environment)
        lines.append(
            f"(cd {infra} && pulumi stack select --create {env} && pulumi preview --non-interactive)"
        )
    return lines


def install_pulumi() -> list[str]:
    """The Pulumi CLI through the SDK's own installer, so no third-party action is needed."""
    return [
        "command -v pulumi >/dev/null || python -c "
        "'from pulumi.automation import PulumiCommand; PulumiCommand.install(root=\".pulumi-cli\")'",
        'export PATH="$PWD/.pulumi-cli/bin:$PATH"',
    ]


def images_and_deploy(plan: Plan, target: Target) -> list[str]:
    lines = []
    for pipeline in plan.pipelines:
        spec, ref = q(pipeline.spec), q(target.ref)
        out = q(plan.build_dir(pipeline, target, HEAD))
        lines += [
            f"mlcompile images {spec} --target {ref} --out {out}/images",
            # The smoke run: deploy waits for it, and fails the job unless it succeeded.
            f"mlcompile deploy {spec} --target {ref} --out {out} --wait {SMOKE_SECONDS}"
            f" --json > {out}.deploy.json",
        ]
    return lines


def smoke_report(plan: Plan, target: Target) -> list[str]:
    reports = " ".join(q(plan.build_dir(p, target, HEAD) + ".deploy.json") for p in plan.pipelines)
    return [f"python -m mlcompile.ci.promote report {reports}"]


def promote(plan: Plan, target: Target) -> list[str]:
    """Compile the tagged commit for ``target``, refuse it unless it is what dev tested (same
    commit, IR and image digests), then deploy it."""
    from mlcompile.ci.login import registry_logins

    lines = registry_logins(plan, target)
    for pipeline in plan.pipelines:
        spec, ref = q(pipeline.spec), q(target.ref)
        out = q(plan.build_dir(pipeline, target, HEAD))
        tested = q(f"{TESTED}/{pipeline.key}")
        lines += [
            # The images dev tested, copied by digest: a release is not rebuilt.
            f"mlcompile images {spec} --target {ref} --out {out}/images --from {tested}/images",
            f"mlcompile compile {spec} --target {ref} --out {out}",
            f'python -m mlcompile.ci.promote gate {tested} {out} --commit "$MLCOMPILE_COMMIT"',
            f"mlcompile deploy {spec} --target {ref} --out {out} --no-start --json > {out}.deploy.json",
        ]
    return lines
