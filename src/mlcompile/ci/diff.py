"""``mlcompile diff``: what changed between two builds, in the terms a reviewer uses.

A side is a build folder (one ``manifest.json``), a folder of builds (each found by its
manifest, paired by relative path), or, for the first side, a git revision: the second side's
folder as committed there. Per build: its IR hash, steps added, removed and changed (image,
command, resources, retries, caching, conditions, other), parameters, the resources its stacks
register (both generated programs run under Pulumi's mocks, in a child process and only when the
two sides' stacks differ), and any other file by hash.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from mlcompile.ci.normalize import ASPECTS, Spec, read_spec
from mlcompile.cli import report
from mlcompile.errors import Diagnostic, UserError

#: Paths listed per changed aspect before the rest is summarised.
_SHOWN = 6


@dataclass
class Build:
    folder: Path
    manifest: dict[str, Any]
    spec: Spec | None
    files: dict[str, str]

    @property
    def infra(self) -> Path:
        return self.folder / "infra"

    @property
    def infra_hash(self) -> str:
        """One hash of every generated infra file: equal hashes register equal resources."""
        listed = sorted((k, v) for k, v in self.files.items() if k.startswith("infra/"))
        return hashlib.sha256(json.dumps(listed).encode()).hexdigest()


def load_builds(root: Path) -> dict[str, Build]:
    """Every build under ``root``, by its folder relative to ``root`` ('.' for root itself)."""
    found = {}
    for manifest in sorted(root.rglob("manifest.json")):
        folder = manifest.parent
        rel = folder.relative_to(root)
        if any(part.startswith(".") or part == "infra" for part in rel.parts):
            continue
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if not isinstance(data, dict) or "platform" not in data or "ir_hash" not in data:
            continue
        found[rel.as_posix()] = Build(folder, data, read_spec(folder, data), _files(folder))
    return found


def _files(folder: Path) -> dict[str, str]:
    from mlcompile.ir.canonical import sha256_hex

    return {
        p.relative_to(folder).as_posix(): sha256_hex(p.read_bytes())
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


#: What each infra folder registers, by its hash: a diff compares a side with many others.
_REGISTERED: dict[str, dict[str, Any]] = {}


def _registered(builds: Iterable[Build]) -> None:
    """Run the programs of each build's infra folder under mocks, in child processes side by
    side (the Pulumi SDKs stay out of this one), into ``_REGISTERED``."""
    wanted = {b.infra_hash: b.infra for b in builds if b.infra.is_dir()}
    missing = [(key, infra) for key, infra in sorted(wanted.items()) if key not in _REGISTERED]

    def run(infra: Path) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "mlcompile.ci.mocks", "--resources", str(infra)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise UserError(
                Diagnostic(
                    "MLC812",
                    f"the stack programs in {infra.as_posix()} fail under mocks: {last}",
                    None,
                    f"run `python -m mlcompile.ci.mocks {infra.as_posix()}` to see the error",
                )
            )
        found: dict[str, Any] = _expanded(json.loads(done.stdout))
        return found

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for (key, _), found in zip(missing, pool.map(run, [i for _, i in missing]), strict=True):
            _REGISTERED[key] = found


def _expanded(value: Any) -> Any:
    """Inputs with their embedded JSON documents (policies, definitions) parsed, so a change
    is shown at the statement or field that changed, not as one long string."""
    if isinstance(value, dict):
        return {k: _expanded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expanded(v) for v in value]
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return _expanded(json.loads(value))
        except ValueError:
            return value
    return value


def _resources(build: Build) -> dict[str, Any]:
    return _REGISTERED.get(build.infra_hash, {})


# Comparing


def _changes(before: Any, after: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Every leaf that differs, as (path, before, after)."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            yield from _changes(
                before.get(key), after.get(key), f"{path}.{key}" if path else str(key)
            )
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (a, b) in enumerate(zip(before, after, strict=True)):
            yield from _changes(a, b, f"{path}[{index}]")
    elif before != after:
        yield path, before, after


def _compare_named(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for name in sorted(set(before) & set(after)):
        found = [
            {"path": p, "before": a, "after": b} for p, a, b in _changes(before[name], after[name])
        ]
        if found:
            changed[name] = found
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": changed,
    }


def _compare_steps(before: Spec, after: Spec) -> dict[str, Any]:
    result: dict[str, Any] = {
        "added": sorted(set(after.steps) - set(before.steps)),
        "removed": sorted(set(before.steps) - set(after.steps)),
        "changed": {},
    }
    for name in sorted(set(before.steps) & set(after.steps)):
        aspects = {}
        for aspect in ASPECTS:
            found = [
                {"path": p, "before": a, "after": b}
                for p, a, b in _changes(before.steps[name][aspect], after.steps[name][aspect])
            ]
            if found:
                aspects[aspect] = found
        if aspects:
            result["changed"][name] = aspects
    return result


def _empty(section: dict[str, Any]) -> bool:
    return not (section["added"] or section["removed"] or section["changed"])


def compare(before: dict[str, Build], after: dict[str, Build]) -> list[dict[str, Any]]:
    """One entry per build that differs; an empty list when the sides are the same."""
    entries = []
    pairs = [(before[k], after[k]) for k in sorted(set(before) & set(after))]
    _registered(b for pair in pairs if pair[0].infra_hash != pair[1].infra_hash for b in pair)
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a is None or b is None:
            build = b or a
            assert build is not None
            entries.append(
                {
                    "build": key,
                    "profile": build.manifest.get("profile"),
                    "platform": build.manifest["platform"],
                    "status": "added" if a is None else "removed",
                    "ir_hash": build.manifest["ir_hash"],
                }
            )
            continue
        entry: dict[str, Any] = {
            "build": key,
            "profile": b.manifest.get("profile"),
            "platform": b.manifest["platform"],
        }
        if a.manifest["ir_hash"] != b.manifest["ir_hash"]:
            entry["ir_hash"] = {"before": a.manifest["ir_hash"], "after": b.manifest["ir_hash"]}
        if a.spec is not None and b.spec is not None:
            steps = _compare_steps(a.spec, b.spec)
            if not _empty(steps):
                entry["steps"] = steps
            parameters = _compare_named(a.spec.parameters, b.spec.parameters)
            if not _empty(parameters):
                entry["parameters"] = parameters
        if a.infra_hash != b.infra_hash:
            resources = _compare_named(_resources(a), _resources(b))
            if not _empty(resources):
                entry["resources"] = resources
        files = _compare_named(a.files, b.files)
        if not _empty(files):
            entry["files"] = {k: files[k] for k in ("added", "removed")} | {
                "changed": sorted(files["changed"])
            }
        if len(entry) > 3:
            entry["status"] = "changed"
            entries.append(entry)
    return entries


# Showing


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _short(text: str, start: int = 0) -> str:
    """At most 60 characters of ``text`` from about ``start``, marked where cut."""
    start = max(0, min(start - 20, len(text) - 60))
    cut = text[start : start + 60]
    return ("..." if start else "") + cut + ("..." if start + 60 < len(text) else "")


def _detail(changes: list[dict[str, Any]]) -> Iterator[str]:
    for change in changes[:_SHOWN]:
        where = f"{change['path']}: " if change["path"] else ""
        before, after = _text(change["before"]), _text(change["after"])
        if "\n" in before + after:
            # A script or embedded source: the first line that differs says what changed.
            pairs = zip(before.splitlines(), after.splitlines(), strict=False)
            line = next((i for i, (a, b) in enumerate(pairs) if a != b), None)
            if line is None:
                line = min(len(before.splitlines()), len(after.splitlines()))
            old_lines, new_lines = before.splitlines(), after.splitlines()
            before = f"line {line + 1}: " + (old_lines[line] if line < len(old_lines) else "(none)")
            after = new_lines[line] if line < len(new_lines) else "(none)"
        # Long values (an embedded script) are shown around their first difference.
        first = next(
            (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
            min(len(before), len(after)),
        )
        yield f"{where}{_short(before, first)} -> {_short(after, first)}"
    if len(changes) > _SHOWN:
        yield f"... and {len(changes) - _SHOWN} more"


def _lines(entry: dict[str, Any]) -> Iterator[tuple[int, str]]:
    """(depth, text) lines of one build's changes; shared by the text and Markdown forms."""
    if entry["status"] != "changed":
        yield 0, f"build {entry['status']} (IR {entry['ir_hash'][:12]})"
        return
    if "ir_hash" in entry:
        yield 0, f"IR {entry['ir_hash']['before'][:12]} -> {entry['ir_hash']['after'][:12]}"
    steps = entry.get("steps", {})
    for name in steps.get("added", []):
        yield 0, f"step added: {name}"
    for name in steps.get("removed", []):
        yield 0, f"step removed: {name}"
    for name, aspects in steps.get("changed", {}).items():
        yield 0, f"step changed: {name} ({', '.join(aspects)})"
        for aspect, changes in aspects.items():
            for text in _detail(changes):
                yield 1, f"{aspect}: {text}"
    for section, noun in (("parameters", "parameter"), ("resources", "resource")):
        part = entry.get(section, {})
        for name in part.get("added", []):
            yield 0, f"{noun} added: {name}"
        for name in part.get("removed", []):
            yield 0, f"{noun} removed: {name}"
        for name, changes in part.get("changed", {}).items():
            yield 0, f"{noun} changed: {name}"
            for text in _detail(changes):
                yield 1, text
    files = entry.get("files", {})
    for verb in ("added", "removed", "changed"):
        for name in files.get(verb, []):
            yield 0, f"file {verb}: {name}"


def _label(entry: dict[str, Any]) -> str:
    """The build's folder, or its profile when the two sides are single builds."""
    return str(entry["profile"] if entry["build"] == "." else entry["build"])


def to_text(entries: list[dict[str, Any]]) -> str:
    out = []
    for entry in entries:
        out.append(f"{_label(entry)} ({entry['platform']})")
        out.extend("  " * (depth + 1) + text for depth, text in _lines(entry))
    return "\n".join(out) + "\n" if out else ""


def to_markdown(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return ""
    out = ["## mlcompile build diff", ""]
    for entry in entries:
        out += [f"### `{_label(entry)}` ({entry['platform']})", ""]
        for depth, text in _lines(entry):
            out.append("  " * depth + f"- {_code(text)}")
        out.append("")
    return "\n".join(out)


def _code(text: str) -> str:
    """Values in backticks so Markdown does not interpret them."""
    head, sep, tail = text.partition(": ")
    if not sep:
        return text
    return f"{head}: `{tail.replace('`', chr(39))}`"


# The command


def _side(
    ref: str, other: Path
) -> tuple[dict[str, Build], tempfile.TemporaryDirectory[str] | None]:
    path = Path(ref)
    if path.is_dir():
        return _loaded(path), None
    if path.exists():
        raise UserError(_not_a_build(path))
    return _at_revision(ref, other)


def _loaded(path: Path) -> dict[str, Build]:
    builds = load_builds(path)
    if not builds:
        raise UserError(_not_a_build(path))
    return builds


def _not_a_build(path: Path) -> Diagnostic:
    return Diagnostic(
        "MLC810",
        f"{path.as_posix()} holds no build (no manifest.json written by `mlcompile compile`)",
        None,
        "give a folder `mlcompile compile` wrote, or a folder of such folders",
    )


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60, check=False)


def _at_revision(
    revision: str, other: Path
) -> tuple[dict[str, Build], tempfile.TemporaryDirectory[str]]:
    """``other`` as committed at ``revision``, unpacked into a temporary folder."""
    where = other if other.is_dir() else Path(".")
    top = _git("rev-parse", "--show-toplevel", cwd=where)
    known = top.returncode == 0 and (
        _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", cwd=where).returncode
        == 0
    )
    if not known:
        raise UserError(
            Diagnostic(
                "MLC811",
                f"{revision!r} is neither a folder nor a git revision"
                + ("" if top.returncode == 0 else " (not in a git repository)"),
                None,
                "give two build folders, or a revision (main, HEAD~1, a tag) and a build folder",
            )
        )
    root = Path(top.stdout.decode().strip())
    rel = other.resolve().relative_to(root.resolve()).as_posix()
    archive = _git("archive", "--format=tar", revision, "--", rel, cwd=root)
    if archive.returncode != 0:
        raise UserError(
            Diagnostic(
                "MLC811",
                f"{rel} is not committed at {revision}",
                None,
                "commit the build folder, or compile that revision (`git worktree add`) and "
                "diff the two folders",
            )
        )
    temporary = tempfile.TemporaryDirectory(prefix="mlcompile-diff-")
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(temporary.name, filter="data")
    return _loaded(Path(temporary.name) / rel), temporary


def diff_command(build_a: str, build_b: Path, *, markdown: bool, as_json: bool) -> int:
    if not build_b.is_dir():
        raise UserError(_not_a_build(build_b))
    after = _loaded(build_b)
    before, temporary = _side(build_a, build_b)
    try:
        entries = compare(before, after)
    finally:
        if temporary is not None:
            temporary.cleanup()
    if as_json:
        report.print_json({"ok": True, "identical": not entries, "builds": entries})
    elif markdown:
        print(to_markdown(entries), end="")
    else:
        print(to_text(entries), end="")
    return 0
