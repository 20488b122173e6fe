"""The promotion gate, and the run summaries CI jobs post.

``python -m mlcompile.ci.promote gate TESTED BUILD --commit SHA`` refuses to promote ``BUILD``
unless the builds in ``TESTED`` (what the merge deployed to dev) were made from ``SHA``, from
the same pipeline definition (IR hash) and, on the same platform, with the same image digests
step by step. It writes what is promoted, IR hash first, to ``$MLCOMPILE_SUMMARY`` (or stdout).

``python -m mlcompile.ci.promote report DEPLOY_JSON...`` turns ``mlcompile deploy --json``
results into the Markdown a job summary shows.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from mlcompile.ci.diff import Build, load_builds
from mlcompile.errors import Diagnostic, UserError

_DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})$")


def _images(build: Build) -> dict[str, list[str]]:
    if build.spec is None:
        return {}
    out = {}
    for name, step in sorted(build.spec.steps.items()):
        image = step["image"]
        images = image if isinstance(image, list) else [image]
        out[name] = [i for i in images if isinstance(i, str)]
    return out


def _identity(image: str) -> str:
    """What must not change when an image moves to another registry: its digest, or, for an
    image named by tag, the reference without the registry host."""
    match = _DIGEST.search(image)
    if match:
        return match.group(1)
    first, _, rest = image.partition("/")
    return rest if rest and ("." in first or ":" in first) else image


def gate(tested_dir: Path, build_dir: Path, commit: str) -> str:
    """The promotion summary, or a UserError saying why ``build_dir`` is not what was tested."""
    problems: list[Diagnostic] = []
    builds = load_builds(build_dir)
    promoted = builds.get(".")
    tested = load_builds(tested_dir) if tested_dir.is_dir() else {}
    if promoted is None or not tested:
        missing = build_dir if promoted is None else tested_dir
        raise UserError(
            Diagnostic(
                "MLC815",
                f"no build in {missing.as_posix()}",
                None,
                "promote only after the merge to the main branch deployed to dev and kept its build",
            )
        )
    ir_hash = promoted.manifest["ir_hash"]
    for key, build in sorted(tested.items()):
        label = f"tested build {key} ({build.manifest.get('profile')})"
        made_from = (build.manifest.get("git") or {}).get("commit")
        if made_from != commit:
            problems.append(
                Diagnostic(
                    "MLC815",
                    f"{label} was made from commit {made_from}, not {commit}",
                    None,
                    "tag a commit that was merged to the main branch and deployed to dev",
                )
            )
        if (build.manifest.get("git") or {}).get("dirty"):
            problems.append(
                Diagnostic(
                    "MLC815",
                    f"{label} was made from uncommitted sources",
                    None,
                    "deploy to dev from CI only",
                )
            )
        if build.manifest["ir_hash"] != ir_hash:
            problems.append(
                Diagnostic(
                    "MLC815",
                    f"{label} has IR {build.manifest['ir_hash'][:12]}, the promoted build has "
                    f"IR {ir_hash[:12]}: they are different pipelines",
                    None,
                    "promote the same commit and pipeline that dev ran",
                )
            )
        if build.manifest["platform"] != promoted.manifest["platform"]:
            continue
        ours, theirs = _images(promoted), _images(build)
        for step in sorted(set(ours) & set(theirs)):
            if [_identity(i) for i in ours[step]] != [_identity(i) for i in theirs[step]]:
                problems.append(
                    Diagnostic(
                        "MLC815",
                        f"step {step} runs {ours[step]} but dev tested {theirs[step]}",
                        None,
                        "promote the images dev ran (same digests); do not rebuild them",
                        step=step,
                    )
                )
    if problems:
        raise UserError(problems)
    manifest = promoted.manifest
    lines = [
        f"### Promoted `{manifest['pipeline']}` to `{manifest['profile']}` ({manifest['platform']})",
        "",
        f"- IR hash: `{ir_hash}`",
        f"- commit: `{commit}`",
        "- tested on: " + ", ".join(f"`{b.manifest.get('profile')}`" for b in tested.values()),
        "",
        "| step | image |",
        "| --- | --- |",
    ]
    for step, images in _images(promoted).items():
        lines.append(f"| `{step}` | {', '.join(f'`{i}`' for i in images) or '-'} |")
    return "\n".join(lines) + "\n"


def report(results: list[Path]) -> str:
    """A job summary of ``mlcompile deploy --json`` results: what runs where, and its state."""
    lines = [
        "### Deployed",
        "",
        "| pipeline | platform | IR hash | run |",
        "| --- | --- | --- | --- |",
    ]
    for path in results:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        deployment = data.get("deployment", {})
        run = {
            k: v
            for k, v in deployment.items()
            if k not in ("platform",) and v not in (None, "", [], {})
        }
        shown = ", ".join(f"{k}: `{v}`" for k, v in sorted(run.items())) or "not started"
        lines.append(
            f"| `{data.get('out', path.stem)}` | {deployment.get('platform', '?')} | "
            f"`{str(data.get('ir_hash', ''))[:12]}` | {shown} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    from mlcompile.cli.report import print_diagnostics

    try:
        if len(argv) >= 5 and argv[0] == "gate" and argv[3] == "--commit":
            text = gate(Path(argv[1]), Path(argv[2]), argv[4])
        elif len(argv) >= 2 and argv[0] == "report":
            text = report([Path(a) for a in argv[1:]])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except UserError as err:
        print_diagnostics(err.diagnostics)
        summary = os.environ.get("MLCOMPILE_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as out:
                out.write("### Promotion refused\n\n")
                out.writelines(f"- {d.code}: {d.message}\n" for d in err.diagnostics)
        return 2
    summary = os.environ.get("MLCOMPILE_SUMMARY")
    if summary and argv[0] == "gate":
        with open(summary, "a", encoding="utf-8") as out:
            out.write(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
