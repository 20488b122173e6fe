"""A generated project installs from the package index alone: `pip install -r requirements.txt`
in a fresh virtualenv (no mlcompile in it) succeeds, and the program's imports resolve there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlcompile.infra.generator import generate
from tests.conftest import build_example, profile
from tests.infra.conftest import shipped_profiles


def _uv() -> str:
    found = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(found).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("uv is required to make the fresh virtualenv")
        pytest.skip("uv is not installed (pip install uv)")
    return found


def _projects(root: Path) -> list[Path]:
    """One pipeline and one platform project per cloud, Kubernetes included."""
    folders = []
    for example, name in (
        ("churn", "sagemaker-dev"),
        ("churn", "kubeflow-dev"),
        ("churn", "vertex-dev"),
        ("churn", "kubeflow-azure"),
    ):
        files = generate(build_example(example), profile(name), shipped_profiles())
        for rel, data in files.items():
            target = root / name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        folders += [root / name / "platform", root / name / "pipeline"]
    return folders


@pytest.mark.slow
def test_every_kind_of_project_installs_in_a_fresh_venv(tmp_path: Path) -> None:
    uv = _uv()
    venvs: dict[bytes, Path] = {}  # one fresh venv per distinct requirements file
    for folder in _projects(tmp_path / "projects"):
        requirements = (folder / "requirements.txt").read_bytes()
        if requirements not in venvs:
            venv = folder / "venv"  # where Pulumi.yaml's runtime options put it
            subprocess.run(
                [uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True
            )
            install = subprocess.run(
                [
                    uv,
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(venv / "bin" / "python"),
                    "-r",
                    "requirements.txt",
                ],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert install.returncode == 0, install.stderr
            venvs[requirements] = venv
        python = venvs[requirements] / "bin" / "python"
        # The program's own imports (its components, their providers) resolve without mlcompile.
        imports = [
            line.split(" import ")[1].replace(",", " ").split()
            for line in (folder / "__main__.py").read_text().splitlines()
            if line.startswith("from mlcompile_infra import ")
        ]
        (modules,) = imports
        code = (
            "import importlib, sys\n"
            + "".join(f"importlib.import_module('mlcompile_infra.{m}')\n" for m in modules)
            + "print('mlcompile' in sys.modules or any(m.startswith('mlcompile.') for m in sys.modules))"
        )
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        run = subprocess.run(
            [str(python), "-c", code], cwd=folder, capture_output=True, text=True, env=env
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == "False"
        missing = subprocess.run(
            [str(python), "-c", "import mlcompile"], cwd=folder, capture_output=True, env=env
        )
        assert missing.returncode != 0, "the fresh venv must not have mlcompile"
