"""A Python that has kfp and the examples' packages but not mlcompile, for kfp's local runner.

kfp's ``SubprocessRunner(use_venv=False)`` runs each task with the orchestrator's own interpreter
(it rewrites ``python3`` in the command), so the orchestrator itself runs in this venv: a step
that works there found mlcompile in its code bundle, not in site-packages. The venv is made once
per test session with ``uv`` (its cache makes that fast) from the pinned constraints.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REPO

#: What the orchestrator and the examples' steps need (their declared packages); pip is seeded
#: because a step with packages runs ``pip install``, which finds them already satisfied.
PACKAGES = ("kfp", "scikit-learn", "pandas")

#: Runs one compiled pipeline YAML under kfp's local runner and prints its outputs as JSON.
ORCHESTRATE = """
import importlib.util, json, sys
assert importlib.util.find_spec("mlcompile") is None, "mlcompile must not be importable here"
from kfp import components, local
spec, root, arguments = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root)
try:
    task = components.load_component_from_file(spec)(**arguments)
except RuntimeError as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit(0)
outputs = {k: getattr(v, "uri", v) for k, v in task.outputs.items()}
print(json.dumps({"outputs": outputs}))
"""


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise RuntimeError("uv is needed to make the local runner's venv (pip install uv)")
    return found


def make_venv(folder: Path) -> Path:
    """The venv's interpreter, made with the same Python version as the tests."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run(
        [uv(), "venv", "--quiet", "--seed", "--python", str(base), str(folder)],
        check=True,
        env=env,
    )
    python = folder / "bin" / "python"
    subprocess.run(
        [
            uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-c",
            str(REPO / "constraints.txt"),
            *PACKAGES,
        ],
        check=True,
        env=env,
    )
    return python


def run_spec(
    python: Path, spec: Path, root: Path, cwd: Path, **arguments: Any
) -> tuple[dict[str, Any], str]:
    """(outputs or error, log) of running ``spec`` with ``arguments`` in the venv, from
    ``cwd``, with nothing of this checkout on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{python.parent}{os.pathsep}/usr/bin:/bin"
    env["MLCOMPILE_KSERVE_DRY_RUN"] = "1"  # no cluster: write the InferenceService only
    result = subprocess.run(
        [str(python), "-c", ORCHESTRATE, str(spec), str(root), json.dumps(arguments)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )
    log = result.stdout + result.stderr
    if result.returncode != 0:
        raise AssertionError(f"the orchestrator failed:\n{log}")
    last = result.stdout.strip().splitlines()[-1]
    data: dict[str, Any] = json.loads(last)
    return data, log
