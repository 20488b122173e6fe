"""Contracts every platform keeps, checked once for all of them:

- the same inputs give byte-identical builds (specs, bundles, manifests) whatever the hash seed
  or the working directory;
- a command imports a platform SDK only when that platform needs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, PROFILES, REPO

#: Compile every example for every profile into OUT (refused pairs are recorded, not written).
COMPILE_ALL = """
import json, sys
from pathlib import Path
from mlcompile.cli import commands
from mlcompile.errors import ValidationError

out, examples, profiles = Path(sys.argv[1]), sys.argv[2].split(","), sys.argv[3].split(",")
refused = []
for example in examples:
    for profile in profiles:
        try:
            commands._compile(f"{sys.argv[4]}/examples/{example}/pipeline.py", f"{sys.argv[4]}/targets/{profile}.yaml", out / profile / example)
        except ValidationError as err:
            refused.append([example, profile, sorted({d.code for d in err.diagnostics})])
print(json.dumps(refused))
"""


def compile_all(cwd: Path, out: Path, seed: str) -> tuple[dict[str, bytes], list[list[object]]]:
    cwd.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            COMPILE_ALL,
            str(out),
            ",".join(EXAMPLES),
            ",".join(PROFILES),
            str(REPO),
        ],
        cwd=cwd,
        env={**os.environ, "PYTHONHASHSEED": seed},
        capture_output=True,
        text=True,
        check=True,
    )
    files = {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }
    return files, json.loads(result.stdout)


@pytest.mark.slow
def test_every_build_is_byte_identical_across_hash_seeds_and_folders(tmp_path: Path) -> None:
    first, refused = compile_all(tmp_path / "a", tmp_path / "out1", "0")
    second, refused_again = compile_all(tmp_path / "b" / "deeper", tmp_path / "out2", "4242")
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert not differing, differing
    assert refused == refused_again
    # Every refusal is located: SageMaker refuses two examples' features (MLC401), and the
    # prod profile every example whose steps would install packages at start (MLC503).
    assert {(e, p): codes for e, p, codes in refused} == {
        ("segments", "sagemaker-prod"): ["MLC401"],
        ("segments", "sagemaker-dev"): ["MLC401"],
        ("sweep", "sagemaker-prod"): ["MLC401", "MLC503"],
        ("sweep", "sagemaker-dev"): ["MLC401"],
        ("churn", "sagemaker-prod"): ["MLC503"],
        ("retrain", "sagemaker-prod"): ["MLC503"],
    }
    assert any(name.endswith(".tar.gz") for name in first), "SageMaker bundles are compared too"
    assert len([n for n in first if n.endswith("manifest.json")]) == len(EXAMPLES) * len(
        PROFILES
    ) - len(refused)


HEAVY = (
    "kfp",
    "sagemaker",
    "boto3",
    "botocore",
    "pulumi",
    "google.cloud.aiplatform",
    "google_cloud_pipeline_components",
    "google.protobuf",
)

PROBE = """
import json, sys
from mlcompile.cli.main import app
try:
    app(args=sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--help"], ()),
        (["check", "examples/churn/pipeline.py"], ()),
        (["ir", "examples/sweep/pipeline.py"], ()),
        (["check", "examples/churn/pipeline.py", "-t", "kubeflow-dev", "-t", "vertex-dev"], ()),
        (["compile", "examples/churn/pipeline.py", "-t", "kubeflow-dev", "-o", "{out}"], ()),
        (["compile", "examples/churn/pipeline.py", "-t", "vertex-dev", "-o", "{out}"], ()),
        # SageMaker validates every step against botocore's service model at compile time.
        (
            ["compile", "examples/churn/pipeline.py", "-t", "sagemaker-dev", "-o", "{out}"],
            ("botocore",),
        ),
    ],
)
def test_commands_import_a_platform_sdk_only_when_needed(
    args: list[str], allowed: tuple[str, ...], tmp_path: Path
) -> None:
    argv = [a.replace("{out}", str(tmp_path / "out")) for a in args]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    heavy = sorted(
        {h for m in loaded for h in HEAVY if (m == h or m.startswith(h + ".")) and h not in allowed}
    )
    assert not heavy, f"{args} imported {heavy}"
