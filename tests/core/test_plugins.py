"""A platform from another package plugs in through the entry-point group alone: profiles,
platform_options, `check` and `compile` accept it with no change to mlcompile."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mlcompile.platforms
from mlcompile.cli.main import app
from tests.conftest import REPO

from .helpers import errors


@pytest.fixture
def acme(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = EntryPoint("acme", "tests.core.acme_platform:PLATFORM", "mlcompile.platforms")
    monkeypatch.setattr(mlcompile.platforms, "entry_points", lambda group: [plugin])


def test_a_registered_platform_compiles_from_its_own_profile(acme: None, tmp_path: Path) -> None:
    profile = tmp_path / "acme-dev.yaml"
    profile.write_text("platform: acme\ncloud: gcp\nenvironment: dev\nregion: r1\naccount: p1\n")
    out = tmp_path / "out"
    pipeline = str(REPO / "examples/minimal/pipeline.py")
    result = CliRunner().invoke(app, ["compile", pipeline, "-t", str(profile), "-o", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["platform"] == "acme" and manifest["spec"] == "acme.json"
    assert json.loads((out / "acme.json").read_text())["name"] == "minimal"
    check = CliRunner().invoke(app, ["check", pipeline, "-t", str(profile), "--json"])
    assert json.loads(check.output)["support"]["acme-dev"]["function-step"]["status"] == "mapped"


def test_platform_options_accept_a_registered_platform(acme: None, tmp_path: Path) -> None:
    source = """
@step(platform_options={"acme": {"tier": "gold"}, "acmee": {}})  # <-
def work() -> None:
    pass

@pipeline
def flow():
    work()
"""
    (diag,) = errors(tmp_path, source)
    assert (
        diag.code == "MLC205"
        and "'acmee'" in diag.message
        and "Did you mean 'acme'" in diag.message
    )


def test_an_unregistered_platform_in_a_profile_is_located(tmp_path: Path) -> None:
    from mlcompile.errors import ProfileError
    from mlcompile.profiles import parse_profile

    with pytest.raises(
        ProfileError, match=r"'sagemakr' is not registered\. Did you mean 'sagemaker'"
    ):
        parse_profile(
            "platform: sagemakr\ncloud: aws\nenvironment: dev\nregion: eu-west-1\naccount: '111122223333'\n",
            Path("p.yaml"),
        )
