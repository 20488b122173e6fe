"""Pinning: with images recorded, every platform's spec names each step's image by digest and
installs nothing at step start; without them, prod refuses each step that would install, at its
line, with the command to build; and the contexts are the same bytes whatever the cwd or seed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlcompile.cli import commands
from mlcompile.images.command import build_images
from mlcompile.images.context import BuildContext
from mlcompile.loader import load
from mlcompile.profiles import load_profile
from tests.conftest import REPO

CHURN = str(REPO / "examples" / "churn" / "pipeline.py")


class Registry:
    """A registry double: each tag gets a digest derived from it (so a test knows it)."""

    name = "double"

    def lookup(self, repository: str, tag: str) -> str | None:
        return None

    def build(self, context: BuildContext, repository: str) -> str:
        return "sha256:" + context.tag[::-1]


@pytest.mark.parametrize(
    "target", ["kubeflow-dev", "sagemaker-dev", "vertex-dev", "sagemaker-prod"]
)
def test_recorded_images_are_pinned_by_digest(target: str, tmp_path: Path) -> None:
    profile, _ = load_profile(target, REPO / "targets")
    pipeline = load(CHURN).build()
    out = tmp_path / "build"
    _, record = build_images(pipeline, profile, out / "images", builder=Registry())
    assert record is not None
    # One environment, and on SageMaker and Vertex a second: `evaluate` reads a secret with the
    # store's client (boto3, google-cloud-secret-manager), which only its image holds.
    assert len(record.environments) == (1 if profile.platform == "kubeflow" else 2)
    clients = {"sagemaker": "boto3", "vertex": "google-cloud-secret-manager"}
    if profile.platform in clients:
        evaluate = record.environments[record.steps["evaluate"]]
        assert clients[profile.platform] in evaluate.packages
    expected = {step: record.environments[key].reference for step, key in record.steps.items()}
    assert sorted(expected) == ["evaluate", "make_data", "split", "train"]
    _, _, _, data, _ = commands._compile(CHURN, str(REPO / "targets" / f"{target}.yaml"), out)
    assert data["images"] == expected
    spec = (out / str(data["spec"])).read_text()
    for reference in set(expected.values()):
        assert "@sha256:" in reference and reference in spec
    # The packages are in the image: no install line names them.
    installs = [line for line in spec.replace("\\n", "\n").splitlines() if "pip install" in line]
    assert not [line for line in installs if "scikit-learn" in line or "pandas" in line]
    if profile.platform == "sagemaker":
        assert spec.count('"MLCOMPILE_PIP": ""') >= 4
    assert (out / "images" / "images.json").is_file()  # compile keeps the record


def test_prod_refuses_steps_that_would_install(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcompile",
            "compile",
            CHURN,
            "--target",
            "sagemaker-prod",
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    found = json.loads(result.stdout)["diagnostics"]
    assert {d["code"] for d in found} == {"MLC503"}
    assert sorted(d["step"] for d in found) == ["evaluate", "make_data", "split", "train"]
    assert {d["file"] for d in found} == {"examples/churn/pipeline.py"}
    assert all(isinstance(d["line"], int) and d["line"] > 100 for d in found)
    assert all(f"mlcompile images {CHURN} --target sagemaker-prod" in d["hint"] for d in found)
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_contexts_are_deterministic(tmp_path: Path) -> None:
    def contexts(cwd: Path, seed: str) -> dict[str, bytes]:
        cwd.mkdir()
        out = cwd / "images"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mlcompile",
                "images",
                CHURN,
                "--target",
                str(REPO / "targets" / "vertex-dev.yaml"),
                "--out",
                str(out),
                "--no-build",
            ],
            cwd=cwd,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
            capture_output=True,
        )
        return {
            p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*"))
            if p.is_file()
        }

    first, second = contexts(tmp_path / "a", "1"), contexts(tmp_path / "b", "777")
    assert first == second and any(k.endswith("requirements.lock") for k in first)
    # Two environments on Vertex: `evaluate` also needs the Secret Manager client.
    dockerfiles = [v.decode() for k, v in first.items() if k.endswith("Dockerfile")]
    assert len(dockerfiles) == 2
    for dockerfile in dockerfiles:
        assert "--require-hashes" in dockerfile and "FROM python:3.11-slim" in dockerfile
    locks = [v.decode() for k, v in first.items() if k.endswith("requirements.lock")]
    assert all("scikit-learn==" in lock and "--hash=sha256:" in lock for lock in locks)
    assert sum("google-cloud-secret-manager==" in lock for lock in locks) == 1


def test_profile_settings_are_validated() -> None:
    from mlcompile.errors import ProfileError
    from tests.images.helpers import make_profile

    base = "platform: vertex\ncloud: gcp\nenvironment: {env}\nregion: europe-west4\naccount: p-1\n"
    with pytest.raises(ProfileError) as err:
        make_profile(base.format(env="dev") + "images:\n  builder: codebuild\n")
    [problem] = err.value.diagnostics
    assert problem.code == "MLC301" and "builds on aws, not gcp" in problem.message
    with pytest.raises(ProfileError):
        make_profile(base.format(env="dev") + "images:\n  python_version: '2.7'\n")
    assert make_profile(base.format(env="prod")).installs_at_start is False
    assert make_profile(base.format(env="dev")).installs_at_start is True
    allowed = base.format(env="prod") + "images:\n  install_at_start: true\n"
    assert make_profile(allowed).installs_at_start is True
