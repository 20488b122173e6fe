"""What each command does; imported only when a command runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mlcompile.cli import report
from mlcompile.errors import Diagnostic, UserError, ValidationError
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import canonical_json, content_hash
from mlcompile.ir.features import FeatureUse
from mlcompile.loader import LoadedPipeline, load
from mlcompile.profiles import Profile, load_profile


def _load(spec: str) -> tuple[LoadedPipeline, ir.Pipeline]:
    loaded = load(spec)
    report.project_root = loaded.root
    return loaded, loaded.build()


def _load_with_profiles(
    spec: str, targets: list[str]
) -> tuple[LoadedPipeline, ir.Pipeline, list[Profile]]:
    """The pipeline and its profiles; the problems of all of them are reported together."""
    problems: list[Diagnostic] = []
    loaded: LoadedPipeline | None = None
    pipeline: ir.Pipeline | None = None
    profiles: list[Profile] = []
    try:
        loaded = load(spec)
        report.project_root = loaded.root
        pipeline = loaded.build()
    except UserError as err:
        problems.extend(err.diagnostics)
    for target in targets:
        try:
            profiles.append(load_profile(target)[0])
        except UserError as err:
            problems.extend(err.diagnostics)
    if problems or loaded is None or pipeline is None:
        raise ValidationError(problems)
    return loaded, pipeline, profiles


def _step_count(pipeline: ir.Pipeline) -> int:
    from mlcompile.ir.walk import scoped_tasks

    return sum(1 for _ in scoped_tasks(pipeline))


def check(spec: str, targets: list[str], as_json: bool) -> int:
    from mlcompile import platforms
    from mlcompile.ir.features import FEATURES, features_used
    from mlcompile.report.mapping import mapping_table

    loaded, pipeline, profiles = _load_with_profiles(spec, targets)
    uses = features_used(pipeline)
    problems: list[Diagnostic] = list(loaded.definition.warnings)
    support: dict[str, dict[str, dict[str, str]]] = {}
    for profile in profiles:
        platform = platforms.get(profile.platform)
        problems.extend(platform.check(pipeline, profile))
        support[profile.name] = {
            row["feature"]: {"status": row["status"], "note": row["note"]}
            for row in mapping_table(pipeline, profile)
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
    spec: str, target: str, out: Path | None, *, images_of_build: bool = False
) -> tuple[ir.Pipeline, Profile, Path, dict[str, Any], list[Diagnostic]]:
    """Check, compile and write the build folder; warnings are returned, errors raised.

    The images record that pins the steps is ``out``'s, or with ``images_of_build`` the one
    `mlcompile images` wrote into the profile's build folder."""
    loaded, pipeline, (profile,) = _load_with_profiles(spec, [target])
    return _compile_loaded(
        loaded, pipeline, profile, out, spec, target, images_of_build=images_of_build
    )


def _compile_loaded(
    loaded: Any,
    pipeline: ir.Pipeline,
    profile: Profile,
    out: Path | None,
    spec: str,
    target: str,
    *,
    images_of_build: bool = False,
) -> tuple[ir.Pipeline, Profile, Path, dict[str, Any], list[Diagnostic]]:
    from mlcompile import platforms
    from mlcompile.build import json_bytes, manifest, write_atomic
    from mlcompile.images.pin import pinned_for_compile

    out_dir = out or Path("build") / profile.name
    images_dir = Path("build") / profile.name if images_of_build else out_dir
    pipeline, images, unbuilt = pinned_for_compile(pipeline, profile, images_dir, spec, target)
    platform = platforms.get(profile.platform)
    problems = [*loaded.definition.warnings, *unbuilt, *platform.check(pipeline, profile)]
    if any(d.severity == "error" for d in problems):
        raise ValidationError(problems)
    output = platform.compile(pipeline, profile)
    files = dict(output.files)
    story = _build_story(pipeline, profile, problems, files, output.spec)
    extra = {**output.manifest_extra, **story, **({"images": images} if images else {})}
    data = manifest(pipeline, profile, loaded.root, output.spec, files, extra)
    files["manifest.json"] = json_bytes(data)
    write_atomic(out_dir, files)
    return pipeline, profile, out_dir, data, problems


def _build_story(
    pipeline: ir.Pipeline,
    profile: Profile,
    problems: list[Diagnostic],
    files: dict[str, bytes],
    spec: str,
) -> dict[str, object]:
    """What the manifest keeps beside the files: the mapping table and every warning; and the
    build report, added to ``files`` so the manifest records its digest too."""
    from mlcompile.ir.canonical import sha256_hex
    from mlcompile.report.build import render, target_of

    target = target_of(
        pipeline, profile, problems, {k: sha256_hex(v) for k, v in files.items()}, spec
    )
    files["report.html"] = render(pipeline, [target])
    return {
        "mapping": target.mapping,
        "warnings": [d.to_json() for d in target.diagnostics],
    }


def compile_to(
    spec: str, target: str, out: Path
) -> tuple[ir.Pipeline, Profile, Path, Path, dict[str, Any]]:
    """Compile into ``out`` for a command that goes on to use the build (``run --target``),
    its steps pinned to the images `mlcompile images` built (``build/<profile>/images``)."""
    pipeline, profile, out_dir, data, problems = _compile(spec, target, out, images_of_build=True)
    report.print_diagnostics(problems, report.project_root)
    return pipeline, profile, report.project_root or Path.cwd(), out_dir, data


def compile_pipeline(spec: str, target: str, out: Path | None, as_json: bool) -> int:
    pipeline, profile, out_dir, data, problems = _compile(spec, target, out)
    if as_json:
        report.print_json(
            {
                "ok": True,
                "out": out_dir.as_posix(),
                "warnings": [d.to_json() for d in problems],
                "manifest": data,
            }
        )
    else:
        report.print_diagnostics(problems, report.project_root)
        print(
            f"compiled {pipeline.name} for {profile.name} ({profile.platform}) into {out_dir.as_posix()}/"
        )
        for rel, sha in data["files"].items():
            print(f"  {rel}  sha256:{sha[:16]}")
        print(f"  manifest.json  ir_hash:{data['ir_hash'][:16]}")
    return 0


def _write_infra(
    pipeline: ir.Pipeline, profile: Profile, profile_file: Path, out_dir: Path
) -> list[str]:
    """Write the platform and pipeline projects over earlier ones, keeping the stack settings
    the user set with `pulumi config set` and any other file of theirs (a virtualenv, notes)."""
    from mlcompile.build import PROJECT_RECORD, ensure_project_writable, project_record, write_files
    from mlcompile.infra.generator import generate

    files = generate(pipeline, profile, sibling_profiles(profile_file))
    settings = {f"{kind}/Pulumi.{profile.environment}.yaml" for kind in ("platform", "pipeline")}
    ensure_project_writable(out_dir, files, frozenset(settings))
    for rel in sorted(settings):
        if (out_dir / rel).is_file():
            files[rel] = _merged_settings(out_dir / rel, files[rel])
    files[PROJECT_RECORD] = project_record(files)
    write_files(out_dir, files)
    return sorted(files)


def _merged_settings(path: Path, generated: bytes) -> bytes:
    """The regenerated stack settings merged with the user's; an unreadable file is refused."""
    import yaml

    from mlcompile.infra.generator import keep_user_settings

    existing = path.read_bytes()
    try:
        if isinstance(yaml.safe_load(existing) or {}, dict):
            return keep_user_settings(generated, existing)
        problem = "it is not a mapping of settings"
    except yaml.YAMLError as exc:
        problem = f"it is not valid YAML ({str(exc).splitlines()[0]})"
    raise UserError(
        Diagnostic(
            "MLC004",
            f"{path.as_posix()} holds the stack settings but {problem}; "
            "regenerating would lose them",
            None,
            "fix the file (or move it away) and run `mlcompile infra` again",
        )
    )


def sibling_profiles(profile_file: Path) -> list[Profile]:
    """The profiles beside ``profile_file``: those of them in the same cloud account and
    environment share its platform stack. A sibling that does not load is left out (it is
    reported when it is used itself)."""
    from mlcompile.errors import MlcompileError
    from mlcompile.profiles import parse_profile

    found = []
    for path in sorted(profile_file.parent.glob("*.yaml")):
        if path.resolve() == profile_file.resolve():
            continue
        try:
            found.append(parse_profile(path.read_text(encoding="utf-8"), path))
        except (MlcompileError, OSError, UnicodeDecodeError):
            continue
    return found


def generate_infra(spec: str, target: str, out: Path | None, as_json: bool) -> int:
    _, pipeline, (profile,) = _load_with_profiles(spec, [target])
    profile_file = load_profile(target)[1]
    out_dir = out or Path("build") / profile.name / "infra"
    files = _write_infra(pipeline, profile, profile_file, out_dir)
    if as_json:
        report.print_json({"ok": True, "out": out_dir.as_posix(), "files": files})
    else:
        print(
            f"generated the Pulumi projects for {pipeline.name} on {profile.name} in {out_dir.as_posix()}/"
        )
        for rel in files:
            print(f"  {rel}")
        for kind in ("platform", "pipeline"):
            print(
                f"then the {kind} stack: cd {(out_dir / kind).as_posix()} && pulumi stack select "
                f"--create {profile.environment} && pulumi preview"
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
    wait: int | None = None,
) -> int:
    """Compile, provision the stack (Pulumi), then upload and upsert the pipeline and run it;
    with ``wait``, wait that many seconds at most for the run to end."""
    from mlcompile.deploy import deploy_build, images_before_compile
    from mlcompile.params import parse_params

    # Everything the user gave is checked before anything is written or called.
    if wait is not None and not start:
        raise UserError(
            Diagnostic(
                "MLC602",
                "deploy --wait waits for the run deploy starts, and --no-start starts none",
                None,
                "drop --no-start to run and wait, or drop --wait",
            )
        )
    loaded, pipeline = _load(spec)
    profile, profile_file = load_profile(target)
    values = parse_params(pipeline, params) if params else None
    from mlcompile.deploy.kubeflow import require_host

    require_host(profile, profile_file)
    images_before_compile(spec, target, out)
    pipeline, profile, out_dir, data, _ = _compile_loaded(
        loaded, pipeline, profile, out, spec, target
    )
    stack = None
    if infra:
        from mlcompile.deploy.pulumi import up

        infra_dir = out_dir / "infra"
        _write_infra(pipeline, profile, profile_file, infra_dir)
        # The platform stack first: the pipeline stack reads its outputs.
        up(infra_dir / "platform", profile.environment)
        stack = up(infra_dir / "pipeline", profile.environment)
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
    if wait is not None:
        from mlcompile.deploy.wait import wait_for_run

        state = wait_for_run(result, profile, timeout=wait, endpoint_url=endpoint_url)
        result["run_state"] = state
        summary["ok"] = state == "succeeded"
    if as_json:
        report.print_json(summary)
    else:
        print(
            f"deployed {pipeline.name} (IR {data['ir_hash'][:12]}) to {profile.name} ({profile.platform})"
        )
        print("\n".join(report.field_lines(result)))
        if stack is not None:
            print("\n".join(report.field_lines({"stack": summary["stack"]})))
    return 0 if summary["ok"] else 1


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


def write_report(spec: str, targets: list[str], out: Path | None, as_json: bool) -> int:
    """The build report for several profiles: each compiled in memory, nothing else written.
    A profile that refuses a feature is shown with its errors rather than stopping the page."""
    from mlcompile import platforms
    from mlcompile.build import write_files
    from mlcompile.ir.canonical import sha256_hex
    from mlcompile.report.build import render, target_of

    _, pipeline = _load(spec)
    profiles = [load_profile(t)[0] for t in targets]
    shown = []
    for profile in profiles:
        platform = platforms.get(profile.platform)
        problems = platform.check(pipeline, profile)
        files = spec_file = None
        if not any(d.severity == "error" for d in problems):
            output = platform.compile(pipeline, profile)
            files = {k: sha256_hex(v) for k, v in output.files.items()}
            spec_file = output.spec
        shown.append(target_of(pipeline, profile, problems, files, spec_file))
    path = out or Path("build") / "report.html"
    write_files(path.parent, {path.name: render(pipeline, shown)})
    if as_json:
        report.print_json(
            {
                "ok": True,
                "out": path.as_posix(),
                "profiles": {
                    t.profile.name: {
                        "compiled": t.files is not None,
                        "mapping": t.mapping,
                        "diagnostics": [d.to_json() for d in t.diagnostics],
                    }
                    for t in shown
                },
            }
        )
    else:
        report.print_diagnostics([d for t in shown for d in t.diagnostics], report.project_root)
        print(
            f"wrote the report of {pipeline.name} for {', '.join(targets) or 'no profile'} to {path.as_posix()}"
        )
    return 0
