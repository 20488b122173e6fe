"""What the workflows do, decided once for every CI provider: which profiles deploy on merge,
which are promoted on a release tag and in what order, and how each logs into its cloud.

The stage of a profile is its environment: ``dev`` deploys on every merge to the main branch,
``staging`` then ``prod`` are promoted from a release tag, each behind its CI environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mlcompile.errors import Diagnostic, SourceLocation, UserError
from mlcompile.naming import resource_name
from mlcompile.profiles import Profile

Provider = Literal["github", "gitlab"]
#: Stages in promotion order.
STAGES = ("dev", "staging", "prod")
#: The OIDC issuer each CI provider signs its job tokens with.
ISSUERS: dict[str, str] = {
    "github": "https://token.actions.githubusercontent.com",
    "gitlab": "https://gitlab.com",
}
#: The audience each cloud's token exchange is given. GitHub's cloud login actions ask for
#: these (GCP's default is the provider's own name); GitLab jobs ask for them in ``id_tokens``.
AUDIENCES: dict[str, str] = {
    "aws": "sts.amazonaws.com",
    "gcp": "https://iam.googleapis.com/mlcompile-ci",
    "azure": "api://AzureADTokenExchange",
}
#: The release tags a promotion runs on.
RELEASE_TAG = "v*"


@dataclass(frozen=True)
class Target:
    """One profile as CI sees it."""

    ref: str  # as given on the command line: a name in targets/ or a path
    profile: Profile
    environment: str  # the CI environment whose protection rules gate this target
    stage: str

    @property
    def job(self) -> str:
        return re.sub(r"[^a-z0-9-]", "-", self.profile.name)

    @property
    def identity(self) -> str:
        return resource_name(self.profile, "ci-identity")


@dataclass(frozen=True)
class Pipeline:
    spec: str  # path/to/file.py[:function], relative to the repository root
    key: str  # a folder name for its builds, unique among the pipelines


@dataclass(frozen=True)
class Plan:
    provider: Provider
    repository: str
    branch: str
    pipelines: tuple[Pipeline, ...]
    targets: tuple[Target, ...]
    install: str

    def stage(self, name: str) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.stage == name)

    def build_dir(self, pipeline: Pipeline, target: Target, root: str = "build/ci") -> str:
        return f"{root}/{pipeline.key}/{target.profile.name}"


_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")


def pipeline_key(spec: str) -> str:
    path = spec.split(":", 1)[0]
    return re.sub(r"[^A-Za-z0-9]+", "-", path.removesuffix(".py")).strip("-").lower()


def make_plan(
    specs: list[str],
    profiles: list[tuple[str, Profile, Path]],
    *,
    provider: Provider | None,
    repository: str | None,
    branch: str | None,
    install: str,
) -> Plan:
    """Check the command line against the profiles and decide the stages; every problem is
    reported at once."""
    problems: list[Diagnostic] = []
    asked = {p.ci.provider for _, p, _ in profiles}
    chosen: Provider = provider or ("gitlab" if asked == {"gitlab"} else "github")
    repos = {p.ci.repository for _, p, _ in profiles if p.ci.repository}
    repo = repository or (repos.pop() if len(repos) == 1 else None)
    if repository is not None and not _REPOSITORY.match(repository):
        problems.append(
            Diagnostic(
                "MLC801",
                f"--repository {repository!r} is not owner/name (GitHub) or group/project (GitLab)",
                None,
                "give the repository as it appears in its URL, e.g. --repository acme/churn",
            )
        )
    elif repo is None:
        where = ", ".join(sorted(f"{p.name} ({f.as_posix()})" for _, p, f in profiles))
        problems.append(
            Diagnostic(
                "MLC801",
                "no repository to trust: "
                + ("the profiles name different ones" if repos else "no profile sets ci.repository")
                + f" ({where})",
                None,
                "set ci.repository in the profiles, or pass --repository owner/name",
            )
        )
    branches = {p.ci.branch for _, p, _ in profiles}
    main = branch or _one(branches, "main")
    targets = []
    for ref, profile, path in profiles:
        stage = profile.environment
        if stage not in STAGES:
            problems.append(
                Diagnostic(
                    "MLC802",
                    f"profile {profile.name} is in environment {stage!r}, which has no place in "
                    f"the promotion order {' -> '.join(STAGES)}",
                    SourceLocation(path.as_posix(), _line(path, "environment")),
                    f"set environment to one of {', '.join(STAGES)}, or leave the profile out of --target",
                )
            )
        if chosen == "gitlab" and profile.cloud == "azure" and stage != "dev":
            problems.append(
                Diagnostic(
                    "MLC803",
                    f"profile {profile.name}: an Azure federated credential matches one exact "
                    "subject, and a GitLab tag pipeline's subject names the tag, so no credential "
                    "can trust every release tag",
                    SourceLocation(path.as_posix(), _line(path, "cloud")),
                    "promote Azure profiles from GitHub Actions (environment subjects), or deploy "
                    "this profile from the main branch as a dev profile",
                )
            )
        environment = profile.ci.environment or profile.environment
        targets.append(Target(ref, profile, environment, stage))
    pipelines = []
    for spec in specs:
        file = spec.split(":", 1)[0]
        if not Path(file).is_file():
            problems.append(
                Diagnostic(
                    "MLC804",
                    f"pipeline file {file} does not exist",
                    None,
                    "give the pipeline file relative to the repository root, as CI checks it out",
                )
            )
        pipelines.append(Pipeline(spec, pipeline_key(spec)))
    if len({p.key for p in pipelines}) != len(pipelines):
        problems.append(
            Diagnostic("MLC804", "a pipeline is named twice", None, "name each pipeline once")
        )
    if len({t.profile.name for t in targets}) != len(targets):
        problems.append(
            Diagnostic("MLC802", "a profile is named twice", None, "name each profile once")
        )
    if problems:
        raise UserError(problems)
    assert repo is not None
    order = {s: i for i, s in enumerate(STAGES)}
    ordered = sorted(targets, key=lambda t: (order[t.stage], t.profile.name))
    return Plan(chosen, repo, main, tuple(pipelines), tuple(ordered), install)


def _one(values: set[str], default: str) -> str:
    return sorted(values)[0] if len(values) == 1 else default


def _line(path: Path, key: str) -> int:
    """The line ``key:`` is on in a profile file (1 when it is not written there)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    return next((i for i, text in enumerate(lines, 1) if text.startswith(f"{key}:")), 1)
