"""The manifest keeps the story of a build: the mapping table `check` prints, and every warning
of the compile, which `compile --json` reports too."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO
from tests.report.test_pages import CHURN, churn_with_a_warning, cli


def test_manifest_keeps_the_mapping_table_and_every_warning(tmp_path: Path) -> None:
    out = tmp_path / "build"
    churn = str(churn_with_a_warning(tmp_path / "project"))
    compiled = cli("compile", churn, "--target", "sagemaker-dev", "--out", str(out), "--json")
    assert compiled.returncode == 0, compiled.stderr
    printed = json.loads(compiled.stdout)
    manifest = json.loads((out / "manifest.json").read_text())
    assert printed["manifest"] == manifest

    checked = json.loads(cli("check", churn, "--target", "sagemaker-dev", "--json").stdout)
    assert {
        row["feature"]: {"status": row["status"], "note": row["note"]}
        for row in manifest["mapping"]
    } == checked["support"]["sagemaker-dev"]
    assert {row["feature"]: row["used_by"] for row in manifest["mapping"]} == checked["features"]

    warnings = [d for d in checked["diagnostics"] if d["severity"] == "warning"]
    assert warnings and manifest["warnings"] == warnings == printed["warnings"]
    text = cli("compile", churn, "--target", "sagemaker-dev", "--out", str(out))
    assert all(w["code"] in text.stderr for w in warnings)


def test_report_html_is_a_file_of_the_build(tmp_path: Path) -> None:
    out = tmp_path / "build"
    assert cli("compile", str(CHURN), "--target", "kubeflow-dev", "--out", str(out)).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert "report.html" in manifest["files"] and manifest["warnings"] == []
    assert manifest["ir_hash"] in (out / "report.html").read_text()
    assert REPO.as_posix() not in (out / "report.html").read_text()


def test_a_thousand_step_chain_lays_out_in_layers(tmp_path: Path) -> None:
    """No recursion limit: each step of a chain gets its own layer, in order."""
    from mlcompile.loader import load
    from mlcompile.report.graph import build_graph, layout

    source = tmp_path / "chain.py"
    source.write_text(
        "from mlcompile import pipeline, step\n\n@step\ndef inc(x: int) -> int:\n    return x + 1\n\n"
        "@pipeline\ndef chain(n: int = 0) -> None:\n    v = inc(x=n)\n    for _ in range(1199):\n"
        "        v = inc(x=v.output)\n"
    )
    graph = build_graph(load(str(source)).build())
    placed = layout(graph)
    ys = [placed.leaves[leaf.id].y for leaf in graph.leaves()]
    assert len(ys) == 1200 and ys == sorted(ys) and len(set(ys)) == 1200
