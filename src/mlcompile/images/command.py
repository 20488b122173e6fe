"""``mlcompile images``: write the build contexts, build what the registry lacks, record digests.

The contexts go to ``build/<profile>/images/contexts/<tag>/`` and the record, read by compile,
to ``build/<profile>/images/images.json``. Both are deterministic: the same pipeline, profile and
registry contents give the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlcompile.build import PROJECT_RECORD, json_bytes, project_record, write_atomic
from mlcompile.images.builders import Builder
from mlcompile.images.context import BuildContext, build_context
from mlcompile.images.environment import step_needs
from mlcompile.images.record import IMAGES_FOLDER, RECORD_FILE, BuiltImage, Record
from mlcompile.images.registry import repository
from mlcompile.ir import nodes as ir
from mlcompile.profiles import Profile


@dataclass(frozen=True)
class Plan:
    """The contexts a pipeline needs, and which steps use each (by environment key)."""

    contexts: dict[str, BuildContext]
    steps: dict[str, str]


def plan(pipeline: ir.Pipeline, profile: Profile) -> Plan:
    from mlcompile.runtime.ship import step_side_files

    step_side = step_side_files()
    contexts: dict[str, BuildContext] = {}
    steps: dict[str, str] = {}
    for need in step_needs(pipeline, profile):
        key = need.environment.key
        steps[need.path] = key
        if key not in contexts:
            contexts[key] = build_context(
                need.environment, step_side, step=need.path, location=need.task.location.source()
            )
    return Plan(contexts, steps)


def context_files(planned: Plan) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for context in planned.contexts.values():
        for rel, data in context.files.items():
            files[f"contexts/{context.tag}/{rel}"] = data
    return files


def build_images(
    pipeline: ir.Pipeline,
    profile: Profile,
    out_dir: Path,
    *,
    build: bool = True,
    builder: Builder | None = None,
    tested: Record | None = None,
) -> tuple[Plan, Record | None]:
    """Write the contexts; with ``build``, look up or build each image (or, with ``tested``,
    copy the tested one by digest) and write the record."""
    planned = plan(pipeline, profile)
    files = context_files(planned)
    record = None
    if build:
        from mlcompile.images.builders import builder_for

        repo = repository(profile)
        built: dict[str, BuiltImage] = {}
        for key, context in planned.contexts.items():
            if tested is not None:
                from mlcompile.images.promote import copy_tested

                steps = sorted(p for p, k in planned.steps.items() if k == key)
                digest = copy_tested(tested, key, context, steps, repo, profile)
                fresh = False
            else:
                builder = builder or builder_for(profile)
                found = builder.lookup(repo, context.tag)
                fresh = found is None
                digest = found if found is not None else builder.build(context, repo)
            env = context.environment
            built[key] = BuiltImage(context.tag, digest, repo, env.base, env.packages, fresh)
        record = Record(profile.name, repo, built, planned.steps)
        files[RECORD_FILE] = json_bytes(record.to_json())
    elif (out_dir / RECORD_FILE).is_file():
        # Contexts only: the images built before stay recorded (compile pins only those whose
        # environment is unchanged).
        files[RECORD_FILE] = (out_dir / RECORD_FILE).read_bytes()
    files[PROJECT_RECORD] = project_record(files, "images")
    write_atomic(out_dir, files, record=PROJECT_RECORD)
    return planned, record


def images_dir(profile: Profile, out: Path | None) -> Path:
    return out or Path("build") / profile.name / IMAGES_FOLDER


def build_command(spec: str, target: str) -> str:
    """The command a user runs to build the images of ``spec`` for ``target``."""
    return f"mlcompile images {spec} --target {target}"


def run(
    spec: str, target: str, out: Path | None, build: bool, as_json: bool, tested: Path | None = None
) -> int:
    """The CLI command."""
    from mlcompile.cli import commands, report
    from mlcompile.images.promote import tested_record
    from mlcompile.profiles import load_profile

    _, pipeline = commands._load(spec)
    profile, _ = load_profile(target)
    out_dir = images_dir(profile, out)
    copied = tested_record(tested) if tested is not None else None
    planned, record = build_images(pipeline, profile, out_dir, build=build, tested=copied)
    images = []
    for key, context in planned.contexts.items():
        entry: dict[str, object] = {
            "tag": context.tag,
            "base": context.environment.base,
            "packages": list(context.environment.packages),
            "steps": sorted(p for p, k in planned.steps.items() if k == key),
            "context": f"{(out_dir / 'contexts' / context.tag).as_posix()}/",
        }
        if record is not None:
            built = record.environments[key]
            entry.update(image=built.reference, built=built.built)
        images.append(entry)
    if as_json:
        report.print_json({"ok": True, "out": out_dir.as_posix(), "images": images})
        return 0
    what = "built or found" if build else "wrote the build contexts of"
    print(f"{what} {len(images)} step image(s) for {pipeline.name} on {profile.name}")
    for entry in images:
        steps = ", ".join(str(s) for s in entry["steps"])  # type: ignore[attr-defined]
        if record is None:
            print(f"  {entry['context']}  ({steps})")
        else:
            state = "copied" if copied else "built" if entry["built"] else "exists"
            print(f"  {entry['image']}  [{state}]  ({steps})")
    if record is not None:
        print(f"recorded in {(out_dir / RECORD_FILE).as_posix()}; compile pins these digests")
    return 0
