"""Every example, run from each platform's compiled files, agrees with the embedded run: the same
steps end the same way, the run has the same outputs, and every function step's artifacts have
the same content (sha256). What may differ is only what the divergences table lists."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from mlcompile.emulate.divergences import extra_step_allowed
from mlcompile.local.lineage import LineageDB
from mlcompile.local.store import ArtifactStore
from tests.emulate.test_kfp_ir import _cli

KFP = ["kubeflow-dev", "vertex-dev"]
#: Example -> the profiles it runs on (SageMaker refuses run-time loops and final(): MLC401).
EXAMPLES = {
    "churn": [*KFP, "sagemaker-dev"],
    "minimal": [*KFP, "sagemaker-dev"],
    "retrain": [*KFP, "sagemaker-dev"],
    "segments": KFP,
    "sweep": KFP,
}
CASES = [(example, target) for example, targets in EXAMPLES.items() for target in targets]


def _embedded_name(name: str, expected: set[str]) -> str | None:
    """The embedded run's name of an emulated step, None for a step it has not."""
    # Python names; SageMaker's copies of a merge reader (`-if`, `-else`) are the reader.
    normal = name.removesuffix("-if").removesuffix("-else").replace("-", "_")
    if normal in expected:
        return normal
    # SageMaker flattens a nested pipeline's steps to `<outer>-<step>`.
    flat = {e.replace("/", "_"): e for e in expected}
    if normal in flat:
        return flat[normal]
    # Vertex runs a built-in as a sub-DAG: `register-model/stage-model` is `register_model`.
    parent = normal.rsplit("/", 1)[0]
    return parent if "/" in normal and parent in expected else None


def _statuses(run: dict[str, Any], expected: set[str]) -> dict[str, str]:
    """Each step's status by its embedded name; a step run as several tasks is done when any
    was done, failed when any failed."""
    found: dict[str, set[str]] = {}
    for step in run["steps"]:
        name = _embedded_name(step["name"], expected)
        if name is not None:
            found.setdefault(name, set()).add(step["status"])
    rank = ("failed", "upstream_failed", "done", "skipped")
    return {name: next(s for s in rank if s in seen) for name, seen in found.items()}


def _digest(path: Path) -> str:
    """A file's sha256; a folder holding one file (a SageMaker output prefix) is that file."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    if len(files) == 1:
        return hashlib.sha256(files[0].read_bytes()).hexdigest()
    return hashlib.sha256(
        "".join(f"{f.relative_to(path)}:{_digest(f)}\n" for f in files).encode()
    ).hexdigest()


def _outputs(store: Path, kind: str | None = None) -> dict[str, dict[str, str]]:
    """The content digest of each output of each step (of one kind) of the store's only run."""
    db = LineageDB(store / "lineage.db")
    artifacts = ArtifactStore(store)
    try:
        (run,) = db.runs()
        found: dict[str, dict[str, str]] = {}
        for step in db.steps_of(run["id"]):
            if kind and step["kind"] != kind:
                continue
            links = db.step_artifacts(int(step["id"]), "out")
            found[step["name"]] = {
                link["name"]: _digest(artifacts.path_of(link["sha256"])) for link in links
            }
        return found
    finally:
        db.close()


_embedded: dict[str, tuple[dict[str, Any], dict[str, dict[str, str]]]] = {}


def _embedded_run(example: str, folder: Path) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The embedded run of an example and its function steps' outputs, once per test process."""
    if example not in _embedded:
        store = folder / f"embedded-{example}"
        result = _cli("run", f"examples/{example}/pipeline.py", "--store", str(store))
        assert result["status"] == "succeeded", result
        _embedded[example] = (result, _outputs(store, "function"))
    return _embedded[example]


@pytest.mark.slow
@pytest.mark.parametrize(("example", "target"), CASES)
def test_the_compiled_example_runs_as_the_embedded_run_does(
    example: str, target: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    embedded, embedded_outputs = _embedded_run(example, tmp_path_factory.getbasetemp())
    store = tmp_path / target
    emulated = _cli("run", f"examples/{example}/pipeline.py", "-t", target, "--store", str(store))
    assert emulated["status"] == "succeeded", emulated
    assert emulated["outputs"] == embedded["outputs"]

    platform = target.split("-")[0]
    names = {s["name"] for s in embedded["steps"]}
    expected = {s["name"]: s["status"] for s in embedded["steps"]}
    extra = [
        step["name"]
        for step in emulated["steps"]
        if _embedded_name(step["name"], names) is None
        and not extra_step_allowed(platform, step["name"])
    ]
    assert not extra, f"steps the embedded run has not, and no divergence lists: {extra}"
    statuses = _statuses(emulated, names)
    assert {name: statuses.get(name) for name in expected} == expected

    # Function steps write the user's data; built-ins write each platform's registry records.
    outputs: dict[str, dict[str, str]] = {}
    for step, produced in _outputs(store).items():
        name = _embedded_name(step, names)
        if name is not None:
            outputs.setdefault(name, {}).update(produced)
    for step, produced in embedded_outputs.items():
        got = outputs.get(step, {})
        assert {k: got.get(k) for k in produced} == produced, (step, target)


@pytest.mark.slow
@pytest.mark.parametrize("target", KFP)
def test_a_second_run_of_the_compiled_spec_is_served_from_the_cache(
    target: str, tmp_path: Path
) -> None:
    spec = "examples/minimal/pipeline.py"
    store = str(tmp_path / "store")
    _cli("run", spec, "-t", target, "--store", store)
    again = _cli("run", spec, "-t", target, "--store", store)
    assert again["status"] == "succeeded"
    done = [s for s in again["steps"] if s["status"] == "done" and s["name"] != "import-code"]
    assert done and all(s["cached"] for s in done), again["steps"]
