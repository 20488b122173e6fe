"""What each command does; imported only when a command runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mlcompile.cli import report
from mlcompile.errors import Diagnostic, ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import canonical_json, content_hash
from mlcompile.ir.features import FeatureUse
from mlcompile.loader import LoadedPipeline, load
from mlcompile.profiles import Profile, load_profile


def _load(spec: str) -> tuple[LoadedPipeline, ir.Pipeline]:
    loaded = load(spec)
    report.project_root = loaded.root
    return loaded, loaded.build()


def _step_count(pipeline: ir.Pipeline) -> int:
    from mlcompile.ir.walk import scoped_tasks

    return sum(1 for _ in scoped_tasks(pipeline))


def check(spec: str, targets: list[str], as_json: bool) -> int:
    from mlcompile import platforms
    from mlcompile.ir.features import FEATURES, features_used

    _, pipeline = _load(spec)
    profiles = [load_profile(t)[0] for t in targets]
    uses = features_used(pipeline)
    problems: list[Diagnostic] = []
    support: dict[str, dict[str, dict[str, str]]] = {}
    for profile in profiles:
        platform = platforms.get(profile.platform)
        problems.extend(platform.check(pipeline, profile))
        support[profile.name] = {
            use.feature: {"status": s.status, "note": s.note}
            for use in uses
            for s in [platforms.support_of(platform, use.feature)]
        }
    rows = sorted({use.feature for use in uses}, key=list(FEATURES).index)
    result = {
        "ok": not any(d.severity == "error" for d in problems),
        "pipeline": pipeline.name,
        "ir_hash": content_hash(pipeline),
        "steps": _step_count(pipeline),
        "features": {f: sorted({u.where for u in uses if u.feature == f}) for f in rows},
        "support": support,
        "diagnostics": [d.to_json() for d in problems],
    }
    if as_json:
        report.print_json(result)
    else:
        _print_check(pipeline, rows, uses, profiles, support)
        report.print_diagnostics(problems, report.project_root)
    return 0 if result["ok"] else 2


def _print_check(
    pipeline: ir.Pipeline,
    rows: list[str],
    uses: list[FeatureUse],
    profiles: list[Profile],
    support: dict[str, dict[str, dict[str, str]]],
) -> None:
    from rich.console import Console
    from rich.table import Table

    from mlcompile.ir.features import FEATURES

    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"[bold]{pipeline.name}[/bold]: {_step_count(pipeline)} steps, IR {content_hash(pipeline)[:12]}, IR valid"
    )
    table = Table(title="Portability" if profiles else "Features used", title_justify="left")
    table.add_column("feature")
    table.add_column("used by")
    marks = {
        "mapped": "[green]mapped[/green]",
        "lowered": "[yellow]lowered[/yellow]",
        "refused": "[red]refused[/red]",
    }
    for profile in profiles:
        table.add_column(profile.name)
    for feature in rows:
        where = sorted({u.where for u in uses if u.feature == feature})
        shown = ", ".join(where[:3]) + (f" +{len(where) - 3}" if len(where) > 3 else "")
        table.add_row(
            FEATURES[feature], shown, *(marks[support[p.name][feature]["status"]] for p in profiles)
        )
    console.print(table)


def print_ir(spec: str) -> int:
    _, pipeline = _load(spec)
    sys.stdout.write(canonical_json(pipeline, indent=2) + "\n")
    return 0


def _compile(
    spec: str, target: str, out: Path | None
) -> tuple[ir.Pipeline, Profile, Path, dict[str, Any], list[Diagnostic]]:
    """Check, compile and write the build folder; warnings are returned, errors raised."""
    from mlcompile import platforms
    from mlcompile.build import json_bytes, manifest, write_atomic

    loaded, pipeline = _load(spec)
    profile, _ = load_profile(target)
    platform = platforms.get(profile.platform)
    problems = platform.check(pipeline, profile)
    if any(d.severity == "error" for d in problems):
        raise ValidationError(problems)
    output = platform.compile(pipeline, profile)
    files = dict(output.files)
    data = manifest(pipeline, profile, loaded.root, output.spec, files, output.manifest_extra)
    files["manifest.json"] = json_bytes(data)
    out_dir = out or Path("build") / profile.name
    write_atomic(out_dir, files)
    return pipeline, profile, out_dir, data, problems


def compile_to(
    spec: str, target: str, out: Path
) -> tuple[ir.Pipeline, Profile, Path, Path, dict[str, Any]]:
    """Compile into ``out`` for a command that goes on to use the build (``run --target``)."""
    pipeline, profile, out_dir, data, problems = _compile(spec, target, out)
    report.print_diagnostics(problems, report.project_root)
    return pipeline, profile, report.project_root or Path.cwd(), out_dir, data


def compile_pipeline(spec: str, target: str, out: Path | None, as_json: bool) -> int:
    pipeline, profile, out_dir, data, problems = _compile(spec, target, out)
    if as_json:
        report.print_json({"ok": True, "out": out_dir.as_posix(), "manifest": data})
    else:
        report.print_diagnostics(problems, report.project_root)
        print(
            f"compiled {pipeline.name} for {profile.name} ({profile.platform}) into {out_dir.as_posix()}/"
        )
        for rel, sha in data["files"].items():
            print(f"  {rel}  sha256:{sha[:16]}")
        print(f"  manifest.json  ir_hash:{data['ir_hash'][:16]}")
    return 0


def _write_infra(pipeline: ir.Pipeline, profile: Profile, out_dir: Path) -> list[str]:
    """Write the generated project over an earlier one, keeping the stack settings the user set
    with `pulumi config set` and any other file of theirs (a virtualenv, notes)."""
    from mlcompile.build import ensure_replaceable, write_files
    from mlcompile.infra.generator import generate, keep_user_settings

    ensure_replaceable(out_dir, "stack.json")
    files = generate(pipeline, profile)
    settings = f"Pulumi.{profile.environment}.yaml"
    if (out_dir / settings).exists():
        files[settings] = keep_user_settings(files[settings], (out_dir / settings).read_bytes())
    write_files(out_dir, files)
    return sorted(files)


def generate_infra(spec: str, target: str, out: Path | None, as_json: bool) -> int:
    _, pipeline = _load(spec)
    profile, _ = load_profile(target)
    out_dir = out or Path("build") / profile.name / "infra"
    files = _write_infra(pipeline, profile, out_dir)
    if as_json:
        report.print_json({"ok": True, "out": out_dir.as_posix(), "files": files})
    else:
        print(
            f"generated the Pulumi project for {pipeline.name} on {profile.name} in {out_dir.as_posix()}/"
        )
        for rel in files:
            print(f"  {rel}")
        print(
            f"preview it with: cd {out_dir.as_posix()} && pulumi stack select --create "
            f"{profile.environment} && pulumi preview"
        )
    return 0


def deploy_pipeline(
    spec: str,
    target: str,
    out: Path | None,
    *,
    infra: bool,
    start: bool,
    params: list[str],
    endpoint_url: str | None,
    as_json: bool,
) -> int:
    """Compile, provision the stack (Pulumi), then upload and upsert the pipeline and run it."""
    from mlcompile.deploy import deploy_build
    from mlcompile.params import parse_params

    pipeline, profile, out_dir, data, _ = _compile(spec, target, out)
    values = parse_params(pipeline, params) if params else None
    stack = None
    if infra:
        from mlcompile.deploy.pulumi import up

        infra_dir = out_dir / "infra"
        _write_infra(pipeline, profile, infra_dir)
        stack = up(infra_dir, profile.environment)
    result = deploy_build(
        out_dir, profile, start=start, parameters=values, endpoint_url=endpoint_url
    )
    summary = {
        "ok": True,
        "out": out_dir.as_posix(),
        "ir_hash": data["ir_hash"],
        "deployment": result,
    }
    if stack is not None:
        summary["stack"] = {"name": stack.stack, "changes": stack.summary}
    if as_json:
        report.print_json(summary)
    else:
        print(
            f"deployed {pipeline.name} (IR {data['ir_hash'][:12]}) to {profile.name} ({profile.platform})"
        )
        for key, value in result.items():
            print(f"  {key}: {value}")
    return 0


def print_schema(what: str) -> int:
    from mlcompile.profiles import profile_schema

    if what == "profile":
        sys.stdout.write(canonical_json(profile_schema(), indent=2) + "\n")
    elif what == "ir":
        sys.stdout.write(canonical_json(ir.Pipeline.model_json_schema(), indent=2) + "\n")
    else:
        raise ValidationError(
            Diagnostic(
                "MLC117",
                f"no schema named {what!r}",
                None,
                "use `mlcompile schema profile` or `mlcompile schema ir`",
            )
        )
    return 0
