"""The step side needs only ``python3``: the closure :func:`step_side_files` ships runs every
runtime adapter on the oldest Python the machine has (3.8), isolated from site-packages, with
the standard library alone; a static check holds its files to Python 3.8; a tampered code
bundle fails the step; and no compiled spec installs mlcompile from a package index.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlcompile.build import deterministic_tar_gz
from mlcompile.platforms.kfp_spec.command import bootstrap_text
from mlcompile.runtime.ship import step_side_files
from tests.conftest import REPO

#: A user's module written for old Pythons' images: future annotations with builtin generics,
#: ``X | None``, a NamedTuple result, artifacts in and out, a fan-in list.
STEPS = """
from __future__ import annotations

from typing import NamedTuple

from helpers.scaling import scale
from mlcompile import Dataset, Input, Metrics, Model, Output, step


class Summary(NamedTuple):
    rows: int
    label: str


@step
def count(
    data: Input[Dataset],
    n: int,
    label: str,
    summary: Output[Metrics],
    model: Output[Model],
    extra: Input[Metrics] | None = None,
) -> Summary:
    rows = open(data.path).read().splitlines()
    summary.log_metric("rows", scale(len(rows), n))
    with open(model.path, "w") as f:
        f.write("model")
    model.metadata["framework"] = "none"
    return Summary(rows=len(rows) * n, label=f"{label}:{extra is None}")


@step
def total(parts: Input[list[Dataset]], offset: float = 0.0) -> float:
    return sum(len(open(p.path).read().splitlines()) for p in parts) + offset
"""

HELPER = "def scale(value: int, factor: int) -> float:\n    return float(value * factor)\n"

#: Where a step's mlcompile may import from, besides its own closure: the compiler's packages,
#: reached only while a pipeline is built (inside functions of the DSL), never in a step.
BUILD_ONLY = ("mlcompile.ir", "mlcompile.platforms")


def _find_python38() -> str | None:
    """A python3.8 that runs: on PATH, or in pyenv's versions (a pyenv shim may not run)."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [Path(f) / "python3.8" for f in os.environ.get("PATH", "").split(os.pathsep)]
    candidates += sorted(root.glob("3.8.*/bin/python3.8"), reverse=True)
    for candidate in candidates:
        if not candidate.is_file():
            continue
        probe = subprocess.run(
            [str(candidate), "-c", "import sys; print(sys.version_info[:2] == (3, 8))"],
            capture_output=True,
            text=True,
        )
        if probe.stdout.strip() == "True":
            return str(candidate)
    return None


@pytest.fixture(scope="module")
def python38() -> str:
    found = _find_python38()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("python3.8 is needed: the step side's tests run on the oldest Python")
        pytest.skip("python3.8 not found on PATH or in pyenv (install it with pyenv install 3.8)")
    return found


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """An empty folder holding only the closure and the user's sources, as a bundle unpacks."""
    root = tmp_path / "bundle"
    files = step_side_files()
    files["steps.py"] = STEPS.encode()
    files["helpers/__init__.py"] = b""
    files["helpers/scaling.py"] = HELPER.encode()
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (tmp_path / "data.csv").write_text("a\nb\nc\n")
    return root


def _isolated(python: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """No site-packages (-S), no PYTHON* variables (-E), no user site (-s), no venv on PATH."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(
        [python, "-E", "-s", "-S", *args], cwd=cwd, capture_output=True, text=True, env=env
    )


def test_closure_keys_are_the_step_side() -> None:
    files = step_side_files()
    assert "mlcompile/__init__.py" in files and "mlcompile/runtime/kfp.py" in files
    assert "mlcompile/runtime/bootstrap.py" in files and "mlcompile/dsl/step.py" in files
    assert not [k for k in files if k.startswith(("mlcompile/ir/", "mlcompile/platforms/"))]
    assert "mlcompile/profiles.py" not in files and "mlcompile/runtime/ship.py" not in files


def test_closure_is_closed() -> None:
    """Every mlcompile import in the closure is a closure file; the compiler's packages only
    inside functions of the DSL (they run while a pipeline is built)."""
    files = step_side_files()
    modules = {k[:-3].replace("/", ".").removesuffix(".__init__") for k in files}
    problems = []
    for rel, data in files.items():
        tree = ast.parse(data)
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in (n for n in names if n.startswith("mlcompile")):
                if name in modules:
                    continue
                lazy = id(node) not in top_level and rel.startswith("mlcompile/dsl/")
                if not (lazy and name.startswith(BUILD_ONLY)):
                    problems.append(f"{rel}:{node.lineno} imports {name}")
    assert not problems


def _executor_input(tmp_path: Path, bundle: Path, function: str) -> dict[str, object]:
    out = tmp_path / "out"
    return {
        "inputs": {
            "parameterValues": {"n": 2.0, "label": "run"},
            "artifacts": {
                "data": {"artifacts": [{"name": "data", "uri": str(tmp_path / "data.csv")}]},
                "mlcompile_code": {"artifacts": [{"name": "code", "uri": str(bundle)}]},
            },
        },
        "outputs": {
            "parameters": {
                "rows": {"outputFile": str(out / "rows")},
                "label": {"outputFile": str(out / "label")},
            },
            "artifacts": {
                name: {"artifacts": [{"name": name, "uri": str(out / name)}]}
                for name in ("summary", "model")
            },
            "outputFile": str(out / "executor_output.json"),
        },
    }


def _bundle(project: Path, tmp_path: Path) -> tuple[Path, str]:
    import hashlib

    files = {
        p.relative_to(project).as_posix(): p.read_bytes() for p in project.rglob("*") if p.is_file()
    }
    data = deterministic_tar_gz(files)
    sha = hashlib.sha256(data).hexdigest()
    path = tmp_path / "code" / f"{sha}.tar.gz"
    path.parent.mkdir()
    path.write_bytes(data)
    return path, sha


@pytest.mark.slow
def test_kfp_adapter_runs_from_the_bundle_on_python38(
    python38: str, project: Path, tmp_path: Path
) -> None:
    """The compiled command exactly: ``-c BOOTSTRAP SHA256 --executor_input ...``, from a folder
    with nothing in it, in isolated mode (-I: not even the working folder is importable)."""
    bundle, sha = _bundle(project, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    executor_input = _executor_input(tmp_path, bundle, "steps.py:count")
    args = ["--executor_input", json.dumps(executor_input), "--function", "steps.py:count"]
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [python38, "-I", "-S", "-c", bootstrap_text(), sha, *args],
        cwd=empty,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = json.loads((tmp_path / "out" / "executor_output.json").read_text())
    assert output["parameterValues"] == {"rows": 6, "label": "run:True"}
    summary = output["artifacts"]["summary"]["artifacts"][0]
    assert summary["metadata"] == {"rows": 6.0}
    model = output["artifacts"]["model"]["artifacts"][0]
    assert model["metadata"] == {"framework": "none"}
    assert (tmp_path / "out" / "model").read_text() == "model"


@pytest.mark.slow
def test_tampered_bundle_fails_the_step(python38: str, project: Path, tmp_path: Path) -> None:
    bundle, sha = _bundle(project, tmp_path)
    data = bytearray(bundle.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bundle.write_bytes(bytes(data))
    executor_input = _executor_input(tmp_path, bundle, "steps.py:count")
    args = ["--executor_input", json.dumps(executor_input), "--function", "steps.py:count"]
    result = _isolated(python38, "-c", bootstrap_text(), sha, *args, cwd=tmp_path)
    assert result.returncode != 0
    assert f"this step was compiled for {sha}" in result.stderr
    assert "changed or replaced after compiling" in result.stderr
    assert not (tmp_path / "out").exists(), "nothing of the step ran"


@pytest.mark.slow
def test_sagemaker_adapter_on_python38(python38: str, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    parts = tmp_path / "parts"
    for i in range(2):
        (parts / str(i)).mkdir(parents=True)
        (parts / str(i) / "rows.csv").write_text("x\n" * (i + 1))
    args = ["-m", "mlcompile.runtime", "sagemaker", "run", "--code", "steps.py"]
    args += ["--function", "total", "--list", "parts", "artifact"]
    args += ["--input", "parts", str(parts / "0" / "rows.csv")]
    args += ["--input", "parts", str(parts / "1" / "rows.csv")]
    args += ["--param", "offset", "0.5", "--values", str(out / "values.json")]
    result = _isolated(python38, *args, cwd=project)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "values.json").read_text()) == {"output": 3.5}


@pytest.mark.slow
def test_local_adapter_on_python38(python38: str, project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = {
        "kind": "function",
        "code_file": "steps.py",
        "function": "count",
        "root": str(project),
        "params": {"n": "3", "label": "local"},
        "inputs": {"data": {"path": str(tmp_path / "data.csv")}},
        "outputs": {
            "summary": {"path": str(out / "summary")},
            "model": {"path": str(out / "model")},
        },
        "result": str(tmp_path / "result.json"),
        "env": {},
        "secrets": [],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    result = _isolated(
        python38, "-m", "mlcompile.runtime", "local", str(tmp_path / "spec.json"), cwd=project
    )
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["parameters"] == {"rows": 9, "label": "local:True"}
    assert json.loads((out / "summary").read_text()) == {"rows": 9.0}


@pytest.mark.slow
def test_importing_mlcompile_loads_only_the_standard_library(python38: str, project: Path) -> None:
    """What a user's module pulls in on Python 3.8: no pydantic, nothing outside the stdlib."""
    script = (
        "import sys, sysconfig\n"
        "import steps\n"
        "std = sysconfig.get_paths()['stdlib']\n"
        "here = sys.path[0]\n"
        "bad = sorted(n for n, m in list(sys.modules.items())\n"
        "    if n != '__main__' and getattr(m, '__file__', None)\n"
        "    and not m.__file__.startswith((std, here)))\n"
        "print(bad)\n"
        "print('pydantic' in sys.modules, 'mlcompile.ir' in sys.modules)\n"
    )
    (project / "probe.py").write_text(script)
    result = _isolated(python38, "probe.py", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "False False"]


#: vermin has no ``python -m`` entry; this is what its console script runs.
VERMIN = [sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())"]


def _step_side_sources() -> list[str]:
    src = REPO / "src"
    return [str(src / rel) for rel in step_side_files()]


def test_static_minimum_version_is_python38() -> None:
    """vermin finds the standard-library APIs and keyword arguments newer than 3.8; ruff, given
    3.8 as the target, the syntax."""
    result = subprocess.run(
        [*VERMIN, "-t=3.8-", "--violations", "--no-tips", *_step_side_sources()],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ruff = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--target-version",
            "py38",
            "--select",
            "E9,F63,F7,F82",
            *_step_side_sources(),
        ],
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_static_check_catches_newer_python(tmp_path: Path) -> None:
    """The same checks fail on what the step side used to do (ParamSpec, str.removeprefix,
    zip(strict=)) and on 3.10 syntax."""
    newer = tmp_path / "newer.py"
    newer.write_text(
        "from typing import ParamSpec\n"
        "P = ParamSpec('P')\n"
        "name = 'module:x'.removeprefix('module:')\n"
        "pairs = list(zip([1], [2], strict=True))\n"
    )
    result = subprocess.run(
        [*VERMIN, "-t=3.8-", "--violations", "--no-tips", str(newer)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    for feature in ("typing.ParamSpec", "str.removeprefix", "zip(strict)"):
        assert feature in result.stdout
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def f(x):\n    match x:\n        case 1:\n            return 1\n")
    ruff = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--target-version",
            "py38",
            "--select",
            "E9",
            str(syntax),
        ],
        capture_output=True,
        text=True,
    )
    assert ruff.returncode != 0 and "match" in ruff.stdout


#: What a step pip-installs: the arguments after ``pip install`` up to the end of that command,
#: and the requirement lists SageMaker jobs pass to their install line in ``MLCOMPILE_PIP``.
PIP_ARGUMENTS = re.compile(r"pip install((?:[^;&|\n\"\\]|\\\")*)|\"MLCOMPILE_PIP\": \"([^\"]*)\"")


def installs_mlcompile(text: str) -> bool:
    for match in PIP_ARGUMENTS.finditer(text.replace("\\n", "\n")):
        for token in (match.group(1) or match.group(2) or "").split():
            name = re.split(r"[<>=!~\[;@ ]", token.strip("'\\\""), maxsplit=1)[0]
            if name.lower().replace("_", "-") == "mlcompile":
                return True
    return False


def test_no_compiled_spec_installs_mlcompile() -> None:
    """Every golden spec, on every platform: no step pip-installs mlcompile (no index serves
    it, and an unclaimed name there is a dependency-confusion risk)."""
    goldens = sorted(p for p in (REPO / "tests" / "golden").rglob("*") if p.is_file())
    assert len(goldens) > 20
    offenders = [
        str(p.relative_to(REPO)) for p in goldens if installs_mlcompile(p.read_text("utf-8"))
    ]
    assert not offenders
    # What the specs did before: Vertex's command and a Kubeflow one without mlcompile inside.
    assert installs_mlcompile("python3 -m pip install --quiet mlcompile==0.1.0 pandas\n")
    assert installs_mlcompile('{"MLCOMPILE_PIP": "pandas mlcompile"}')
    assert not installs_mlcompile("pip install -q pandas; cd /opt/ml/mlcompile")


def test_a_dotted_metric_key_is_a_path_into_nested_objects(tmp_path: Path) -> None:
    """One meaning everywhere: what log_metric writes, what get reads, and SageMaker's JsonGet."""
    from mlcompile.dsl.artifacts import Metrics

    metrics = Metrics(str(tmp_path / "metrics.json"))
    metrics.log_metric("auc", 0.9)
    metrics.log_metric("regression_metrics.mse.value", 0.25)
    metrics.log_metric("regression_metrics.r2.value", 0.5)
    assert json.loads((tmp_path / "metrics.json").read_text()) == {
        "auc": 0.9,
        "regression_metrics": {"mse": {"value": 0.25}, "r2": {"value": 0.5}},
    }
    assert metrics.get("regression_metrics.mse.value") == 0.25
    assert metrics.read() == {
        "auc": 0.9,
        "regression_metrics.mse.value": 0.25,
        "regression_metrics.r2.value": 0.5,
    }
    with pytest.raises(KeyError, match=r"it logged: auc, regression_metrics\.mse\.value"):
        metrics.get("regression_metrics.mae.value")
    with pytest.raises(KeyError, match="not a number"):
        metrics.get("regression_metrics.mse")


def test_a_store_path_secret_name_reads_the_same_local_variable() -> None:
    """A compiled spec names a secret by its store path (Vertex: projects/P/secrets/N/versions/V;
    an ARN on AWS); a local run of it reads the variable the embedded run reads."""
    from mlcompile.runtime.secrets import local_variable

    expected = "MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN"
    assert local_variable("churn-warehouse-token") == expected
    assert local_variable("projects/p/secrets/churn-warehouse-token/versions/latest") == expected
    assert local_variable("arn:aws:secretsmanager:eu-west-1:1:secret:churn-warehouse-token") == (
        expected
    )
