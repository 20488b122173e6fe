"""Every error mlcompile raises, and the diagnostics they carry.

The tree::

    MlcompileError                 root; never raised itself
    ├── UserError                  a problem in what the user wrote; the CLI exits 2
    │   ├── ValidationError        one or more located Diagnostics, all collected before raising
    │   ├── PipelineLoadError      the pipeline file cannot be found, imported or chosen from
    │   └── ProfileError           a deployment profile is missing, unknown or invalid
    ├── DeployError                a platform or the Pulumi CLI refused or is unavailable; exit 1
    ├── ImageBuildError            a builder failed to build, push or look up a step image; exit 1
    └── InternalError              a bug in mlcompile; exit 1

A :class:`Diagnostic` names what is wrong, the rule it breaks and the fix, with the file and line
of the user's ``@step`` or ``@pipeline`` code. Codes are stable (scripts may match on them) and
listed in :data:`CODES`: ``MLC1xx`` pipeline structure and types, ``MLC2xx`` step options,
``MLC3xx`` profiles, ``MLC4xx`` platform refusals and platform rules, ``MLC5xx`` step images,
``MLC6xx`` stacks and deploy, ``MLC7xx`` emulators of the compiled files, ``MLC8xx`` CI
workflows, promotion and the build diff, ``MLC9xx`` local runs and reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

#: Every diagnostic code with the short name of the rule it enforces.
CODES: dict[str, str] = {
    "MLC001": "pipeline-file-import",
    "MLC002": "pipeline-not-found",
    "MLC003": "pipeline-ambiguous",
    "MLC004": "output-folder-not-ours",
    "MLC005": "missing-extra",
    "MLC101": "unknown-input",
    "MLC102": "missing-input",
    "MLC103": "type-mismatch",
    "MLC104": "duplicate-step-name",
    "MLC105": "out-of-scope-reference",
    "MLC106": "non-comparable-condition",
    "MLC107": "bad-cron",
    "MLC108": "missing-annotation",
    "MLC109": "unknown-output",
    "MLC110": "ambiguous-output",
    "MLC111": "otherwise-without-when",
    "MLC112": "bad-fan-out",
    "MLC113": "bad-merge",
    "MLC114": "bad-final-step",
    "MLC115": "bad-pipeline-output",
    "MLC116": "bad-collect",
    "MLC117": "bad-value",
    "MLC118": "dependency-cycle",
    "MLC119": "bad-name",
    "MLC120": "unknown-timezone",
    "MLC121": "unused-parameter",
    "MLC122": "reserved-name",
    "MLC130": "bad-monitor-feature",
    "MLC131": "bad-monitor-statistic",
    "MLC132": "bad-monitor-threshold",
    "MLC133": "bad-monitor-schedule",
    "MLC134": "bad-monitor-baseline",
    "MLC135": "bad-drift-action",
    "MLC136": "unknown-retrain-parameter",
    "MLC137": "retrain-approval-not-a-parameter",
    "MLC201": "bad-resource-quantity",
    "MLC202": "literal-secret",
    "MLC203": "bad-retry",
    "MLC204": "bad-duration",
    "MLC205": "unknown-platform-option",
    "MLC206": "bad-container-spec",
    "MLC207": "bad-step-option",
    "MLC208": "runtime-value-in-option",
    "MLC301": "profile-invalid",
    "MLC302": "profile-not-found",
    "MLC303": "profile-duplicate-key",
    "MLC401": "unsupported-feature",
    "MLC402": "platform-name-rule",
    "MLC403": "platform-api-shape",
    "MLC404": "unresolved-reference",
    "MLC405": "capped-to-platform-limit",
    "MLC406": "over-platform-limit",
    "MLC407": "not-applicable-on-platform",
    "MLC410": "schedule-moved-by-daylight-saving",
    "MLC450": "monitoring-unsupported",
    "MLC501": "image-tool-missing",
    "MLC502": "image-packages-unresolved",
    "MLC503": "image-needed-no-install-at-start",
    "MLC504": "image-not-tested",
    "MLC505": "image-copy-failed",
    "MLC601": "platform-stack-profiles-disagree",
    "MLC602": "wait-without-run",
    "MLC603": "kubeflow-host-missing",
    "MLC701": "no-emulator-for-platform",
    "MLC702": "containers-mode",
    "MLC801": "ci-repository",
    "MLC802": "ci-environment-order",
    "MLC803": "ci-identity-unsupported",
    "MLC804": "ci-pipeline-not-found",
    "MLC805": "ci-workflow-not-ours",
    "MLC806": "ci-promote-from",
    "MLC810": "diff-not-a-build",
    "MLC811": "diff-revision",
    "MLC812": "diff-stack-program-failed",
    "MLC815": "promotion-not-tested",
    "MLC901": "unknown-run",
    "MLC902": "run-page-needs-run",
    "MLC910": "local-secret-missing",
    "MLC911": "local-packages-unavailable",
}


@dataclass(frozen=True, order=True)
class SourceLocation:
    """Where in the user's code something was written: a path relative to the project root."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem: what, the rule, the fix, and where the user wrote it."""

    code: str
    message: str
    location: SourceLocation | None = None
    hint: str = ""
    severity: Severity = "error"
    platform: str | None = None
    step: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise InternalError(f"diagnostic code {self.code!r} is not registered in CODES")

    @property
    def rule(self) -> str:
        return CODES[self.code]

    def sort_key(self) -> tuple[str, int, str, str]:
        loc = self.location
        return (loc.file if loc else "", loc.line if loc else 0, self.code, self.message)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "file": self.location.file if self.location else None,
            "line": self.location.line if self.location else None,
            "hint": self.hint,
            "platform": self.platform,
            "step": self.step,
        }

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.severity} {self.code} [{self.rule}] {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class MlcompileError(Exception):
    """Root of every error mlcompile raises."""

    exit_code = 1


class UserError(MlcompileError):
    """A problem in the user's pipeline, profile or command line (exit code 2)."""

    exit_code = 2

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        diags = [diagnostics] if isinstance(diagnostics, Diagnostic) else list(diagnostics)
        self.diagnostics: list[Diagnostic] = sorted(diags, key=Diagnostic.sort_key)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class ValidationError(UserError):
    """The pipeline breaks one or more rules; every problem found is in ``diagnostics``."""


class PipelineLoadError(UserError):
    """The pipeline file cannot be imported, or the pipeline in it cannot be chosen."""


class ProfileError(UserError):
    """A deployment profile cannot be found or does not validate."""


class DeployError(MlcompileError):
    """Deploying failed outside the user's input: a missing Pulumi CLI, a refused API call."""


class ImageBuildError(MlcompileError):
    """A builder failed to build, push or look up a step image (its own output says why)."""


class InternalError(MlcompileError):
    """A bug in mlcompile itself. Please report it with the command that caused it."""


@dataclass
class DiagnosticSink:
    """Collects diagnostics so that validation reports every problem at once."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self.diagnostics:
            self.diagnostics.append(diagnostic)

    def error(
        self,
        code: str,
        message: str,
        location: SourceLocation | None,
        hint: str = "",
        *,
        platform: str | None = None,
        step: str | None = None,
    ) -> None:
        self.add(Diagnostic(code, message, location, hint, "error", platform, step))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def raise_if_errors(self, cls: type[UserError] = ValidationError) -> None:
        if self.has_errors:
            raise cls(self.diagnostics)


def did_you_mean(name: str, candidates: list[str] | set[str] | tuple[str, ...]) -> str:
    """A ' Did you mean X?' suffix for the closest candidate, or '' when nothing is close."""
    import difflib

    close = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
