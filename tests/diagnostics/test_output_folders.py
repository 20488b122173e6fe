"""Output folders: a build, an infra project or a store is reused only when mlcompile wrote it.

Anything else is refused with MLC004 and left byte for byte as it was: no rename, no delete.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

MINIMAL = str(REPO / "examples/minimal/pipeline.py")


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlcompile", *args], cwd=cwd, capture_output=True, text=True
    )


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (hidden ones included) with its bytes; None for folders."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def refused(result: subprocess.CompletedProcess[str]) -> bool:
    text = result.stdout + result.stderr
    return result.returncode == 2 and "MLC004" in text and "Traceback" not in text


def compile_to(out: Path, target: str = "kubeflow-dev") -> subprocess.CompletedProcess[str]:
    return cli("compile", MINIMAL, "-t", target, "--out", str(out))


def test_a_user_file_at_out_is_never_renamed(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    result = compile_to(tmp_path / "notes.txt")
    assert refused(result) and "is a file" in result.stderr
    assert snapshot(tmp_path) == before


def test_a_stray_manifest_does_not_make_a_folder_a_build(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "my app"}')
    (folder / "data.csv").write_text("a,b\n1,2\n")
    before = snapshot(tmp_path)
    assert refused(compile_to(folder))
    assert snapshot(tmp_path) == before
    # Even a manifest shaped like ours does not cover a file it does not list.
    build = tmp_path / "build"
    assert compile_to(build).returncode == 0
    (folder / "manifest.json").write_bytes((build / "manifest.json").read_bytes())
    before = snapshot(tmp_path)
    result = compile_to(folder)
    assert refused(result) and "data.csv" in result.stderr
    assert snapshot(tmp_path) == before


def test_an_earlier_build_with_a_user_file_or_an_edit_is_kept(tmp_path: Path) -> None:
    build = tmp_path / "build"
    assert compile_to(build).returncode == 0
    (build / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    result = compile_to(build)
    assert refused(result) and "notes.txt" in result.stderr
    assert snapshot(tmp_path) == before

    (build / "notes.txt").unlink()
    spec = json.loads((build / "manifest.json").read_text())["spec"]
    (build / spec).write_text((build / spec).read_text() + "# my edit\n")
    before = snapshot(tmp_path)
    result = compile_to(build)
    assert refused(result) and spec in result.stderr and "changed" in result.stderr
    assert snapshot(tmp_path) == before

    (build / "empty-dir-of-mine").mkdir()
    (build / spec).unlink()
    assert refused(compile_to(build))


def test_an_earlier_build_is_replaced_and_its_infra_kept(tmp_path: Path) -> None:
    build = tmp_path / "build"
    for _ in range(2):
        assert compile_to(build).returncode == 0
    assert (
        cli("infra", MINIMAL, "-t", "kubeflow-dev", "--out", str(build / "infra")).returncode == 0
    )
    infra = snapshot(build / "infra")
    assert compile_to(build, "kubeflow-azure").returncode == 0
    assert snapshot(build / "infra") == infra
    assert json.loads((build / "manifest.json").read_text())["profile"] == "kubeflow-azure"
    # Nothing is left beside the build: no staging or old folders.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build"]


def test_paths_below_a_file_are_refused_not_crashed(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    below = tmp_path / "notes.txt" / "build"
    before = snapshot(tmp_path)
    result = compile_to(below)
    assert refused(result) and "is a file" in result.stderr
    assert refused(cli("infra", MINIMAL, "-t", "kubeflow-dev", "--out", str(below)))
    assert refused(
        cli("infra", MINIMAL, "-t", "kubeflow-dev", "--out", str(tmp_path / "notes.txt"))
    )
    assert refused(cli("run", MINIMAL, "--store", str(tmp_path / "notes.txt")))
    assert refused(cli("run", MINIMAL, "--store", str(below)))
    assert snapshot(tmp_path) == before


def test_infra_writes_only_over_a_project_it_generated(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "requirements.txt").write_text("numpy\n")
    before = snapshot(tmp_path)
    assert refused(cli("infra", MINIMAL, "-t", "kubeflow-dev", "--out", str(mine)))
    assert snapshot(tmp_path) == before

    project = tmp_path / "infra"
    args = ("infra", MINIMAL, "-t", "kubeflow-dev", "--out", str(project))
    assert cli(*args).returncode == 0
    (project / "venv").mkdir()
    assert cli(*args).returncode == 0  # files of the user's beside the project are fine
    # Two projects, platform/ and pipeline/, each guarded by the one record beside them.
    program = project / "platform" / "__main__.py"
    program.write_text(program.read_text() + "# my edit\n")
    before = snapshot(tmp_path)
    result = cli(*args)
    assert refused(result) and "platform/__main__.py" in result.stderr
    assert snapshot(tmp_path) == before

    program.unlink()
    record_file = project / ".mlcompile-files.json"
    saved = record_file.read_bytes()
    record = json.loads(saved)
    del record["files"]["pipeline/stack.json"]  # as if the user had written it
    record_file.write_text(json.dumps(record))
    before = snapshot(tmp_path)
    result = cli(*args)
    assert refused(result) and "pipeline/stack.json (not generated" in result.stderr
    assert snapshot(tmp_path) == before

    record_file.write_bytes(saved)
    (project / "pipeline" / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    before = snapshot(tmp_path)
    result = cli(*args)
    assert refused(result) and "pipeline/Pulumi.dev.yaml" in result.stderr
    assert snapshot(tmp_path) == before


def test_run_store_must_be_a_store(tmp_path: Path) -> None:
    (tmp_path / "report.docx").write_text("mine")
    before = snapshot(tmp_path)
    result = cli("run", MINIMAL, "--store", str(tmp_path))
    assert refused(result) and "lineage.db" in result.stderr
    assert snapshot(tmp_path) == before
