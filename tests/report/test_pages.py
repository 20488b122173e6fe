"""The build report and the run view, opened in headless Chromium: they render (a screenshot
that is not blank), hold one node per step with its status, and make no network request."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlcompile.loader import load
from mlcompile.report.graph import build_graph
from tests.conftest import REPO
from tests.local.helpers import run as run_local
from tests.report.browser import ink, page_requests, render, with_class

CHURN = REPO / "examples" / "churn" / "pipeline.py"


def churn_with_a_warning(folder: Path) -> Path:
    """The churn example with a parameter no step reads: its compile warns (MLC121)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = CHURN.read_text(encoding="utf-8").replace(
        "def churn(\n", 'def churn(\n    notes: str = "",\n', 1
    )
    assert "notes: str" in source
    path = folder / "pipeline.py"
    path.write_text(source, encoding="utf-8")
    return path


FAN_IN = REPO / "tests" / "cases" / "literal_fan_in.py"
RETRAIN = REPO / "examples" / "retrain" / "pipeline.py"


def cli(*args: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlcompile", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


def step_ids(spec: Path) -> set[str]:
    return {leaf.id for leaf in build_graph(load(str(spec)).build()).leaves()}


def assert_offline(html: str) -> None:
    """The page cannot reach the network: its policy forbids it and it names no URL."""
    assert """content="default-src 'none'; style-src 'unsafe-inline'; img-src data:\"""" in html
    assert not re.search(r"https?://", html), re.search(r".{40}https?://.{40}", html)
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html)


def assert_rendered(png: bytes) -> None:
    share, colours = ink(png)
    assert share > 0.05 and colours > 20, f"the screenshot looks blank ({share:.3f}, {colours})"


def test_network_log_catches_a_page_request(tmp_path: Path) -> None:
    """The detector the other tests rely on: a page that loads a remote image is caught."""
    page = tmp_path / "remote.html"
    page.write_text('<html><body><img src="https://example.invalid/x.png">x</body></html>')
    rendered = render(page, tmp_path / "browser")
    assert rendered.page_requests == ["https://example.invalid/x.png"]


def test_build_report_renders_offline_with_every_step(tmp_path: Path) -> None:
    out = tmp_path / "build"
    churn = churn_with_a_warning(tmp_path / "project")
    result = cli("compile", str(churn), "--target", "sagemaker-dev", "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out / "report.html"
    html = page.read_text(encoding="utf-8")
    assert_offline(html)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"]["report.html"]

    rendered = render(page, tmp_path / "browser")
    assert rendered.page_requests == []
    assert_rendered(rendered.png)
    steps = with_class(rendered.dom, "g", "step")
    assert sorted(e.attrs["data-step"] for e in steps) == sorted(step_ids(churn))
    status = {e.attrs["data-step"]: e.attrs["data-status"] for e in steps}
    # Each step is coloured by the least portable row of the manifest's mapping table it uses.
    rank = ["mapped", "lowered", "refused"]
    for step, shown in status.items():
        rows = [r["status"] for r in manifest["mapping"] if step in r["used_by"]]
        assert shown == max(rows, key=rank.index), step
    assert len(set(status.values())) > 1  # the colours tell steps apart
    # Each step links to a section with its details, and the compile's warning is shown.
    sections = with_class(rendered.dom, "section", "step-detail")
    assert sorted(s.attrs["data-step"] for s in sections) == sorted(step_ids(churn))
    assert [e.attrs["data-code"] for e in with_class(rendered.dom, "div", "diagnostic")] == [
        "MLC121"
    ]
    assert "when scored.metrics[&quot;auc&quot;] &gt;= min_auc" in html
    assert manifest["ir_hash"] in html


def test_report_puts_profiles_side_by_side_and_draws_nested_pipelines(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    targets = ["kubeflow-dev", "sagemaker-prod", "vertex-dev"]
    args = ["report", str(RETRAIN), *(a for t in targets for a in ("-t", t)), "--out", str(out)]
    result = cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert sorted(data["profiles"]) == targets and all(
        p["compiled"] for p in data["profiles"].values()
    )
    html = out.read_text(encoding="utf-8")
    assert_offline(html)
    header = re.search(r'<table class="portability"><thead><tr>(.*?)</tr>', html)
    assert header is not None and all(f"<th>{t}</th>" in header.group(1) for t in targets)
    rendered = render(out, tmp_path / "browser")
    assert rendered.page_requests == []
    assert_rendered(rendered.png)
    steps = {e.attrs["data-step"] for e in with_class(rendered.dom, "g", "step")}
    assert steps == step_ids(RETRAIN) and "prepare/make_data" in steps
    groups = {e.attrs["data-group"]: e for e in with_class(rendered.dom, "g", "group")}
    assert "g-pipeline" in groups["prepare"].attrs["class"]
    assert {"condition_1", "condition_1:then", "condition_1:otherwise"} <= set(groups)


def test_report_shows_a_refusing_profile_instead_of_failing(tmp_path: Path) -> None:
    """A team deciding whether to move needs the page most when a platform refuses something."""
    out = tmp_path / "report.html"
    result = cli(
        "report", str(FAN_IN), "-t", "kubeflow-dev", "-t", "sagemaker-dev", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "for_each RATES, parallelism=2" in html
    assert html.count('class="badge lowered b-lowered"') > 0


def test_same_build_same_bytes_whatever_the_seed_and_folder(tmp_path: Path) -> None:
    pages = []
    for seed, folder in (("1", "a"), ("2", "b")):
        cwd = tmp_path / folder
        (cwd / "targets").mkdir(parents=True)
        for target in ("kubeflow-dev", "vertex-dev"):
            (cwd / "targets" / f"{target}.yaml").write_bytes(
                (REPO / "targets" / f"{target}.yaml").read_bytes()
            )
        out = cwd / "out.html"
        result = cli(
            "report",
            str(FAN_IN),
            "-t",
            "kubeflow-dev",
            "-t",
            "vertex-dev",
            "--out",
            str(out),
            cwd=cwd,
            PYTHONHASHSEED=seed,
        )
        assert result.returncode == 0, result.stderr
        pages.append(out.read_bytes())
    assert pages[0] == pages[1]


def _fan_in_that_fails(folder: Path) -> Path:
    """The fan-in case with a fit that writes no real model, so batch_predict fails after
    the registry has recorded it: one run with done, skipped and failed steps."""
    source = FAN_IN.read_text(encoding="utf-8")
    broken = source.replace("pickle.dump(fitted, f)", "f.write(str(rate).encode())")
    assert broken != source
    path = folder / FAN_IN.name
    path.write_text(broken, encoding="utf-8")
    return path


def test_run_view_renders_statuses_timeline_and_lineage(tmp_path: Path) -> None:
    store = tmp_path / "store"
    fan_in = _fan_in_that_fails(tmp_path)
    result = run_local(str(fan_in), store)
    assert result.status == "failed"  # batch_predict cannot unpickle the pretend model
    out = tmp_path / "run.html"
    shown = cli("runs", result.run_id, "--html", "--store", str(store), "--out", str(out))
    assert shown.returncode == 0, shown.stderr
    html = out.read_text(encoding="utf-8")
    assert_offline(html)
    rendered = render(out, tmp_path / "browser")
    assert rendered.page_requests == []
    assert_rendered(rendered.png)

    dag = {
        e.attrs["data-step"]: e.attrs["data-status"] for e in with_class(rendered.dom, "g", "step")
    }
    assert set(dag) == step_ids(fan_in)
    assert dag == {view.name: view.label for view in result.steps if "[" not in view.name} | {
        "fit": "done"
    }
    assert dag["fail"] == "skipped" and dag["batch_predict"] == "failed"
    spans = {
        e.attrs["data-step"]: e.attrs["data-status"] for e in with_class(rendered.dom, "g", "span")
    }
    assert spans == {view.name: view.label for view in result.steps}

    # Each artifact has a section; the registered model's lineage reaches the model it was
    # made from (the best fit, stored once), the prepared data set, their code and parameters.
    sections = {e.attrs["data-sha256"] for e in with_class(rendered.dom, "section", "artifact")}
    assert len(sections) >= 5
    registered = re.search(
        r'<section class="artifact"[^>]*><h3>RegisteredModel registered_model of register_model'
        r"</h3>(.*?)</section>",
        html,
    )
    assert registered is not None
    lineage = registered.group(1)
    for made_by in ("register_model", "fit[2]", "prepare"):
        assert f"made by <b>{made_by}</b>" in lineage
    assert "rate=0.9" in lineage and "rows=20" in lineage and "code sha256:" in lineage
    for sha in re.findall(r'href="#artifact-([0-9a-f]{64})"', lineage):
        assert sha in sections  # every artifact in the lineage links to its own section


def test_run_view_cache_hits_and_errors(tmp_path: Path) -> None:
    store = tmp_path / "store"
    run_local(str(FAN_IN), store)
    again = run_local(str(FAN_IN), store)
    out = tmp_path / "again.html"
    assert (
        cli("runs", again.run_id, "--html", "--store", str(store), "--out", str(out)).returncode
        == 0
    )
    html = out.read_text(encoding="utf-8")
    assert 'data-step="prepare" data-status="cached"' in html and "cache hit" in html

    missing = cli("runs", "nope", "--html", "--store", str(store))
    assert (
        missing.returncode == 2 and "MLC901" in missing.stderr and "Traceback" not in missing.stderr
    )
    no_run = cli("runs", "--html", "--store", str(store))
    assert no_run.returncode == 2 and "MLC902" in no_run.stderr
    default = cli("runs", again.run_id, "--html", "--store", str(store), "--json")
    assert (
        json.loads(default.stdout)["out"] == (store / "reports" / f"{again.run_id}.html").as_posix()
    )


def test_page_requests_reads_chromium_network_log(tmp_path: Path) -> None:
    """Only requests made for a file:// page count, not the browser's own."""
    log = tmp_path / "netlog.json"
    log.write_text(
        json.dumps(
            {
                "constants": {"logEventTypes": {"URL_REQUEST_START_JOB": 7}},
                "events": [
                    {
                        "type": 7,
                        "params": {
                            "url": "https://update.example/",
                            "network_isolation_key": "https://x",
                        },
                    },
                    {
                        "type": 7,
                        "params": {
                            "url": "https://cdn.example/a.js",
                            "network_isolation_key": "file:// file://",
                        },
                    },
                    {
                        "type": 7,
                        "params": {"url": "file:///tmp/p.html", "network_isolation_key": "file://"},
                    },
                ],
            }
        )
    )
    assert page_requests(log) == ["https://cdn.example/a.js"]


pytestmark = pytest.mark.slow
