"""Platform compilers, registered by name.

A platform is a module exposing ``PLATFORM``, an object with the :class:`Platform` protocol.
The three built in are found by name; third parties register through the entry-point group
``mlcompile.platforms`` (``name = "package.module:PLATFORM"``). Modules are imported only when
their platform is used, so a command for one platform never pays for another's SDK.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Protocol

from mlcompile.errors import Diagnostic, ProfileError, did_you_mean
from mlcompile.ir import nodes as ir
from mlcompile.ir.features import FEATURES, FeatureUse, Support, features_used
from mlcompile.profiles import Profile

_BUILT_IN = {
    "kubeflow": "mlcompile.platforms.kubeflow:PLATFORM",
    "sagemaker": "mlcompile.platforms.sagemaker:PLATFORM",
    "vertex": "mlcompile.platforms.vertex:PLATFORM",
}


@dataclass
class BuildOutput:
    """What a compiler produced: files by relative path, and which one is the main spec."""

    spec: str
    files: dict[str, bytes]
    manifest_extra: dict[str, object] = field(default_factory=dict)


class Platform(Protocol):
    name: str
    #: Per IR feature: mapped, lowered or refused (absent means refused).
    support: Mapping[str, Support]

    def check(self, pipeline: ir.Pipeline, profile: Profile) -> list[Diagnostic]:
        """Every problem compiling ``pipeline`` for ``profile`` would hit, without writing."""
        ...

    def compile(self, pipeline: ir.Pipeline, profile: Profile) -> BuildOutput:
        """The platform's files; raises ValidationError when ``check`` finds errors."""
        ...


def _registry() -> dict[str, str]:
    found = dict(_BUILT_IN)
    for ep in entry_points(group="mlcompile.platforms"):
        found.setdefault(ep.name, ep.value)
    return found


def names() -> list[str]:
    return sorted(_registry())


def get(name: str) -> Platform:
    registry = _registry()
    if name not in registry:
        raise ProfileError(
            Diagnostic(
                "MLC301",
                f"no platform named {name!r}." + did_you_mean(name, list(registry)),
                None,
                f"platforms: {', '.join(sorted(registry))}",
            )
        )
    module_name, _, attr = registry[name].partition(":")
    module = importlib.import_module(module_name)
    platform: Platform = getattr(module, attr or "PLATFORM")
    return platform


def support_of(platform: Platform, feature: str) -> Support:
    return platform.support.get(
        feature, Support("refused", f"{platform.name} has no mapping for this feature yet")
    )


def refusals(platform: Platform, pipeline: ir.Pipeline) -> list[Diagnostic]:
    """A located MLC401 diagnostic for each use of a feature the platform refuses."""
    out = []
    for use in features_used(pipeline):
        support = support_of(platform, use.feature)
        if support.status == "refused":
            out.append(refusal(platform.name, use, support.note))
    return out


def refusal(platform: str, use: FeatureUse, hint: str) -> Diagnostic:
    from mlcompile.errors import SourceLocation

    return Diagnostic(
        "MLC401",
        f"{platform} does not support {FEATURES.get(use.feature, use.feature)} (used by {use.where})",
        SourceLocation(use.location.file, use.location.line),
        hint,
        platform=platform,
        step=use.where,
    )


def unknown_options(
    platform: str,
    known: Mapping[str, str],
    task: ir.Task,
    runtime: tuple[str, ...] = (),
    fixed_because: Mapping[str, str] | None = None,
) -> list[Diagnostic]:
    """MLC205 for each key of ``platform_options[platform]`` the platform does not read, with
    every option it does read (``known``: name to what it sets) in the hint; MLC208 for an
    option given by a pipeline parameter that is not one of ``runtime``, the options the
    platform's spec resolves when a run starts (``fixed_because``: why, by option, where the
    platform's own reason is more than "fixed at compile time")."""
    reasons = fixed_because or {}
    given = task.options.platform_options.get(platform, {})
    hint = f"{platform} options: " + "; ".join(f"{k}: {v}" for k, v in sorted(known.items()))
    fixed = [
        Diagnostic(
            "MLC208",
            f"step {task.name!r}: platform_options[{platform!r}][{key!r}] is pipeline parameter"
            f" {ir.option_parameter(value)!r}; "
            + reasons.get(key, f"{platform} fixes it when the pipeline is compiled"),
            task.location.source(),
            f"give {key} a literal"
            + (f" ({', '.join(runtime)} can take a parameter)" if runtime else ""),
            platform=platform,
            step=task.name,
        )
        for key, value in sorted(given.items())
        if key in known and key not in runtime and ir.option_parameter(value) is not None
    ]
    return fixed + [
        Diagnostic(
            "MLC205",
            f"step {task.name!r}: platform_options[{platform!r}] has no option {key!r}."
            + did_you_mean(key, list(known)),
            task.location.source(),
            hint,
            platform=platform,
            step=task.name,
        )
        for key in sorted(set(given) - set(known))
    ]
