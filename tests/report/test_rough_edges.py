"""What a new user hits first, each fixed and kept fixed: the version and help, --json on every
command, the profile schema, deploy's output, checks before a run starts, package environments,
failure messages, the tables at 80 columns, and a setup on an unsupported Python."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from mlcompile.cli.report import field_lines
from tests.conftest import REPO
from tests.report.test_pages import cli

COMMANDS = [
    "check",
    "ir",
    "compile",
    "infra",
    "deploy",
    "report",
    "run",
    "runs",
    "lineage",
    "serve",
    "schema",
]


def write_pipeline(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipe.py"
    path.write_text("from mlcompile import *\n" + textwrap.dedent(source))
    return path


def test_version_matches_the_package() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    result = cli("--version")
    assert result.returncode == 0 and result.stdout == f"mlcompile {version}\n"


def test_help_shows_what_to_give_not_python_types() -> None:
    for command in ["", *COMMANDS]:
        result = cli(*([command] if command else []), "--help")
        assert result.returncode == 0, result.stderr
        shown = re.findall(r"<(?:str|int|float|bool|path|list\[str\])>", result.stdout)
        assert not shown, f"mlcompile {command} --help shows {shown}"
    run_help = cli("run", "--help").stdout
    assert "--param NAME=VALUE" in run_help and "--store DIR" in run_help
    assert "PIPELINE  path/to/file.py" in run_help


def test_every_command_takes_json() -> None:
    for command in COMMANDS:
        assert "--json" in cli(command, "--help").stdout, command
    schema = cli("schema", "profile", "--json")
    assert schema.returncode == 0 and json.loads(schema.stdout)["title"] == "Profile"
    unknown = cli("schema", "other", "--json")
    assert unknown.returncode == 2 and json.loads(unknown.stdout)["diagnostics"][0]["code"]


def test_schema_profile_accepts_every_shipped_profile() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(cli("schema", "profile").stdout)
    profiles = sorted((REPO / "targets").glob("*.yaml"))
    assert len(profiles) >= 5
    for path in profiles:
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)
    typo = {
        "platform": "vertex",
        "cloud": "gcp",
        "environment": "dev",
        "region": "x",
        "account": "p",
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**typo, "regon": "europe-west4"}, schema)


def test_deploy_output_is_plain_text_not_python_reprs() -> None:
    lines = field_lines(
        {
            "platform": "sagemaker",
            "created": True,
            "uploaded": ("s3://bucket/code/a.tar.gz", "s3://bucket/code/b.tar.gz"),
            "execution_arn": None,
            "stack": {"name": "dev", "changes": {"create": 3}},
        }
    )
    text = "\n".join(lines)
    assert "('" not in text and "True" not in text and "None" not in text
    assert "  created: yes" in lines and "  execution_arn: none" in lines
    assert "    - s3://bucket/code/b.tar.gz" in lines and "      create: 3" in lines


@pytest.mark.slow
def test_deploy_prints_fields_one_a_line(moto_url: str, tmp_path: Path) -> None:
    import boto3

    from tests.deploy.test_deploy import _account_creds, _env, ensure_artifact_bucket

    # Credentials for the profile's account: deploy refuses any other.
    creds = _account_creds(moto_url, "111122223333")
    s3 = boto3.client("s3", endpoint_url=moto_url, **creds)
    ensure_artifact_bucket(s3, bucket := "mlc-dev-artifacts-111122223333")
    for found in s3.list_objects_v2(Bucket=bucket).get("Contents", []):  # the server is shared
        s3.delete_object(Bucket=bucket, Key=found["Key"])  # so the deploy has a bundle to upload
    args = ["deploy", "examples/minimal/pipeline.py", "-t", "sagemaker-dev", "--no-infra"]
    result = cli(*args, "--endpoint-url", moto_url, "--out", str(tmp_path / "b"), **_env(creds))
    assert result.returncode == 0, result.stderr
    assert "('" not in result.stdout and "True" not in result.stdout
    assert re.search(
        r"^  uploaded:\n    - s3://mlc-dev-artifacts-111122223333/", result.stdout, re.M
    )


# ----- before a run starts --------------------------------------------------------------------

TWO_SECRETS = """
    @step
    def first(marker: str) -> int:
        open(marker, "w").write("ran")
        return 1

    @step(secrets=[Secret("mlc-test-alpha", env="ALPHA")])
    def second(x: int) -> int:
        return x

    @step(secrets=[Secret("mlc-test-beta", env="BETA")])
    def third(x: int) -> int:
        return x

    @pipeline
    def needy(marker: str) -> None:
        one = first(marker=marker)
        third(x=second(x=one.output).output)
    """


def test_missing_secrets_are_all_reported_before_the_first_step(tmp_path: Path) -> None:
    spec = write_pipeline(tmp_path / "project", TWO_SECRETS)
    marker = tmp_path / "marker"
    env = {
        k: v for k, v in os.environ.items() if "MLC_TEST" not in k and k not in ("ALPHA", "BETA")
    }
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlcompile",
            "run",
            str(spec),
            "-p",
            f"marker={marker}",
            "--store",
            str(tmp_path / "store"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("MLC910") == 2
    assert "MLCOMPILE_SECRET_MLC_TEST_ALPHA" in result.stderr
    assert "MLCOMPILE_SECRET_MLC_TEST_BETA" in result.stderr
    assert "pipe.py:" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists(), "a step ran before the check"
    assert not (tmp_path / "store" / "lineage.db").exists()
    assert time.monotonic() - started < 30


def _tiny_wheel(folder: Path) -> Path:
    """A wheel of a package no index has, so the test installs it offline from a folder."""
    import base64
    import hashlib

    name, version = "mlc_tinypkg", "1.0"
    files = {
        f"{name}/__init__.py": b"GREETING = 'hello from tinypkg'\n",
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        ),
        f"{name}-{version}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }

    def digest(data: bytes) -> str:
        raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"sha256={raw}"

    record = "".join(f"{p},{digest(d)},{len(d)}\n" for p, d in files.items())
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
        archive.writestr(
            f"{name}-{version}.dist-info/RECORD", record + f"{name}-{version}.dist-info/RECORD,,\n"
        )
    return wheel


def _uv_or_skip() -> None:
    from mlcompile.local.environments import uv_executable

    if uv_executable() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("uv is not installed; CI needs it")
        pytest.skip("uv is not installed")


GREETER = """
    @step(packages=["mlc-tinypkg==1.0"], retries=2)
    def greet() -> str:
        import mlc_tinypkg
        return mlc_tinypkg.GREETING

    @pipeline
    def tiny() -> dict:
        return {"greeting": greet().output}
    """


def test_step_packages_run_in_a_cached_environment_of_their_own(tmp_path: Path) -> None:
    _uv_or_skip()
    wheels = tmp_path / "wheels"
    _tiny_wheel(wheels)
    spec = write_pipeline(tmp_path / "project", GREETER)
    store = tmp_path / "store"
    env = {"UV_OFFLINE": "1", "UV_FIND_LINKS": str(wheels), "UV_CACHE_DIR": str(tmp_path / "uv")}
    args = ["run", str(spec), "--store", str(store), "--json"]
    first = cli(*args, cwd=tmp_path, **env)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["outputs"] == {"greeting": "hello from tinypkg"}
    # This interpreter still lacks the package: it lives only in the step's environment.
    assert subprocess.run(
        [sys.executable, "-c", "import mlc_tinypkg"], capture_output=True
    ).returncode
    environments = list((store / "envs").iterdir())
    assert len(environments) == 1
    (store / "envs" / environments[0].name / "marker").write_text("kept")
    # A changed step reuses the environment: it is keyed by the package set, not the step.
    spec.write_text(spec.read_text().replace("mlc_tinypkg.GREETING", "mlc_tinypkg.GREETING + '!'"))
    second = cli(*args, cwd=tmp_path, **env)
    assert json.loads(second.stdout)["outputs"] == {"greeting": "hello from tinypkg!"}
    assert (environments[0] / "marker").exists() and len(list((store / "envs").iterdir())) == 1


def test_packages_that_cannot_be_installed_fail_at_once_naming_them(tmp_path: Path) -> None:
    _uv_or_skip()
    spec = write_pipeline(
        tmp_path / "project", GREETER.replace("mlc-tinypkg==1.0", "mlc-no-such-package==9.9")
    )
    env = {"UV_OFFLINE": "1", "UV_FIND_LINKS": str(tmp_path), "UV_CACHE_DIR": str(tmp_path / "uv")}
    result = cli("run", str(spec), "--store", str(tmp_path / "store"), cwd=tmp_path, **env)
    assert result.returncode == 2, result.stderr
    assert "MLC911" in result.stderr and "mlc-no-such-package==9.9" in result.stderr
    assert "(for greet)" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "store" / "lineage.db").exists()


def test_an_import_error_is_not_retried(tmp_path: Path) -> None:
    spec = write_pipeline(
        tmp_path / "project",
        """
        @step(retries=Retry(count=3, backoff="20s"))
        def needs_module() -> int:
            import mlc_module_nobody_installed
            return 1

        @pipeline
        def broken() -> None:
            needs_module()
        """,
    )
    started = time.monotonic()
    result = cli("run", str(spec), "--store", str(tmp_path / "store"), "--json", cwd=tmp_path)
    assert result.returncode == 1
    (step,) = json.loads(result.stdout)["steps"]
    assert step["attempts"] == 1 and "not retried" in step["message"].splitlines()[0]
    assert step["message"].startswith("ModuleNotFoundError: No module named 'mlc_module_nobody")
    assert time.monotonic() - started < 20  # one retry alone would have waited 20 s


def test_a_failed_step_shows_its_traceback_tail_and_log(tmp_path: Path) -> None:
    spec = write_pipeline(
        tmp_path / "project",
        """
        def lookup(table: dict, key: str) -> int:
            return table[key]

        @step
        def pick(key: str) -> int:
            return lookup({"a": 1}, key)

        @pipeline
        def picky(key: str = "b") -> None:
            pick(key=key)
        """,
    )
    result = cli("run", str(spec), "--store", str(tmp_path / "store"), cwd=tmp_path, COLUMNS="80")
    assert result.returncode == 1
    assert "pick failed: KeyError: 'b'" in result.stdout
    assert re.search(r'\| +File ".*pipe\.py", line \d+, in lookup', result.stdout)
    assert "|     return table[key]" in result.stdout
    log = re.search(r"^  log: (.+\.log)$", result.stdout, re.M)
    assert log is not None and "KeyError" in Path(log.group(1)).read_text()


# ----- what runs print -------------------------------------------------------------------------

LONG = "x" * 110


def test_runs_and_the_summary_fit_80_columns_and_cut_nothing(tmp_path: Path) -> None:
    spec = write_pipeline(
        tmp_path / "project",
        f"""
        @step
        def number(value: int) -> int:
            return value

        @pipeline
        def gated(value: int = 3) -> None:
            n = number(value=value)
            with when(n.output > 5):
                number(value=1)
            with otherwise():
                fail("too small; see https://example.invalid/{LONG} for why")
        """,
    )
    store = tmp_path / "a-rather-long-folder-name-for-the-store" / "store"
    run = cli("run", str(spec), "--store", str(store), cwd=tmp_path, COLUMNS="80")
    assert run.returncode == 1
    assert f"see https://example.invalid/{LONG} for why" in run.stdout  # whole, on one line
    assert "when(n.output > 5) was false" in run.stdout
    assert "condition_1" not in run.stdout
    lines = run.stdout.splitlines()
    table = lines[: next(i for i, line in enumerate(lines) if line.startswith("└"))]
    assert max(len(line) for line in table) <= 80

    cli("run", str(spec), "-p", "value=9", "--store", str(store), cwd=tmp_path)
    listing = cli("runs", "--store", str(store), cwd=tmp_path, COLUMNS="80")
    assert listing.returncode == 0
    ids = [
        r["run_id"] for r in json.loads(cli("runs", "--store", str(store), "--json").stdout)["runs"]
    ]
    assert len(ids) == 2 and all(run_id in listing.stdout for run_id in ids)
    assert max(len(line) for line in listing.stdout.splitlines()) <= 80
    assert "gated" in listing.stdout and "1 failed" in listing.stdout


def test_a_skipped_step_names_the_condition_as_written(tmp_path: Path) -> None:
    from tests.local.helpers import run

    result = run(str(REPO / "tests" / "cases" / "literal_fan_in.py"), tmp_path / "store")
    skipped = result.step("fail")
    assert skipped.status == "skipped"
    assert skipped.message == (
        'when((best.output > threshold) | ((rows > 10) & (label != "skip"))) was true,'
        " so its otherwise() branch did not run"
    )


# ----- setting up -------------------------------------------------------------------------------

FAKE_OLD_PYTHON = """#!/bin/sh
# Answers like a Python 3.9 would; `-m venv DIR` leaves a venv whose python is this script.
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; exit 0; fi
echo 3.9
"""


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("make is not installed; CI needs it")
        pytest.skip("make is not installed")
    for name in ("Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy(REPO / name, tmp_path / name)
    old = tmp_path / "python3.9"
    old.write_text(FAKE_OLD_PYTHON)
    old.chmod(0o755)
    return tmp_path


def make(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(folder), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


def test_setup_refuses_an_old_python_before_making_a_venv(project_copy: Path) -> None:
    result = make(project_copy, "setup", f"PYTHON={project_copy / 'python3.9'}")
    assert result.returncode != 0
    assert "mlcompile needs Python 3.11 or newer" in result.stderr and "is 3.9" in result.stderr
    assert not (project_copy / ".venv").exists()


def test_clean_removes_a_broken_venv_and_keeps_a_good_one(project_copy: Path) -> None:
    subprocess.run(
        [str(project_copy / "python3.9"), "-m", "venv", str(project_copy / ".venv")], check=True
    )
    assert make(project_copy, "clean").returncode == 0
    assert not (project_copy / ".venv").exists()
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(project_copy / ".venv")], check=True
    )
    assert make(project_copy, "clean").returncode == 0
    assert (project_copy / ".venv" / "bin" / "python").exists()


def test_setup_replaces_a_venv_an_old_python_left(project_copy: Path) -> None:
    subprocess.run(
        [str(project_copy / "python3.9"), "-m", "venv", str(project_copy / ".venv")], check=True
    )
    # No package index: setup stops at its first install, after it has replaced the venv.
    result = make(
        project_copy, "setup", f"PYTHON={sys.executable}", PIP_NO_INDEX="1", PIP_FIND_LINKS=""
    )
    assert "removing .venv: its Python is missing or older than 3.11" in result.stderr
    version = subprocess.run(
        [
            str(project_copy / ".venv" / "bin" / "python"),
            "-c",
            "import sys; print(sys.version_info >= (3, 11))",
        ],
        capture_output=True,
        text=True,
    )
    assert version.stdout.strip() == "True"


def test_readme_says_how_to_install_and_what_each_extra_enables() -> None:
    readme = (REPO / "README.md").read_text()
    install = readme[readme.index("## Install") : readme.index("## A pipeline")]
    assert "source .venv/bin/activate" in install and 'PATH="$PWD/.venv/bin:$PATH"' in install
    assert "mlcompile --version" in install
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    table = [line for line in install.splitlines() if line.startswith("| `")]
    for extra in extras:
        assert any(f"`{extra}`" in line.split("|")[1] for line in table), extra
    local = readme[readme.index("## Local runs") :]
    first_run = local.index("mlcompile run examples/churn/pipeline.py")
    assert "export MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN=" in local[:first_run]
