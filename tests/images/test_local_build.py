"""A real step image: built from a local base (no registry pull), pushed to a registry on
127.0.0.1, its digest read back with skopeo and found in the compiled spec, then a compiled
step run inside it by digest with podman, with the step's inputs, and its outputs checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

PIPELINE = '''
from mlcompile import Dataset, Input, Output, pipeline, step


@step
def make(n: int, data: Output[Dataset]) -> int:
    """Write the numbers below n, one a line."""
    with open(data.path, "w") as f:
        f.write("\\n".join(str(i) for i in range(n)))
    return n


@step
def total(data: Input[Dataset], report: Output[Dataset], scale: int = 1) -> int:
    """Sum the numbers, times scale."""
    import sys

    with open(data.path) as f:
        value = sum(int(x) for x in f.read().split()) * scale
    with open(report.path, "w") as f:
        f.write(f"{value} {sys.version_info[0]}.{sys.version_info[1]}")
    return value


@pipeline
def sums(n: int = 5, scale: int = 3) -> None:
    made = make(n=n)
    total(data=made.data, scale=scale)
'''


def _mlcompile(cwd: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "mlcompile", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _project(tmp_path: Path, registry: str, base: str) -> Path:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    (tmp_path / "targets").mkdir()
    (tmp_path / "targets" / "local-images.yaml").write_text(
        "platform: sagemaker\ncloud: aws\nenvironment: prod\nregion: eu-west-1\n"
        'account: "111122223333"\nimages:\n  builder: local\n'
        f"  registry: {registry}/mlc-prod-steps\n  tls_verify: false\n  base: {base}\n"
    )
    return tmp_path


def _value(expr: Any, parameters: dict[str, str]) -> str:
    """A definition expression with the pipeline's parameter defaults (what SageMaker does)."""
    if isinstance(expr, str):
        return expr
    if "Get" in expr:
        return parameters[expr["Get"].removeprefix("Parameters.")]
    join = expr["Std:Join"]
    return str(join["On"]).join(_value(v, parameters) for v in join["Values"])


def test_build_push_pin_and_run(
    tmp_path: Path, registry: str, base_image: str, container_env: dict[str, str]
) -> None:
    project = _project(tmp_path, registry, base_image)

    built = _mlcompile(project, "images", "pipeline.py", "--target", "local-images")
    [image] = built["images"]  # both steps need the same environment: one image
    assert image["built"] is True and sorted(image["steps"]) == ["make", "total"]
    reference = image["image"]
    repository, _, digest = reference.partition("@")
    read_back = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--tls-verify=false",
            "--format",
            "{{.Digest}}",
            f"docker://{repository}:{image['tag']}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert read_back == digest

    # Unchanged: a lookup finds the tag, nothing is built, the record is byte-identical.
    record = (project / "build/local-images/images/images.json").read_bytes()
    again = _mlcompile(project, "images", "pipeline.py", "--target", "local-images")
    assert again["images"][0]["built"] is False and again["images"][0]["image"] == reference
    assert (project / "build/local-images/images/images.json").read_bytes() == record

    compiled = _mlcompile(project, "compile", "pipeline.py", "--target", "local-images")
    manifest = compiled["manifest"]
    assert manifest["images"] == {"make": reference, "total": reference}
    build = project / "build/local-images"
    definition = json.loads((build / manifest["spec"]).read_text())
    steps = {s["Name"]: s for s in definition["Steps"]}
    for step in steps.values():
        app = step["Arguments"]["AppSpecification"]
        assert app["ImageUri"] == reference
        assert step["Arguments"]["Environment"]["MLCOMPILE_PIP"] == ""

    # Run the compiled `total` job as SageMaker would: inputs and outputs at their local paths.
    job = steps["total"]["Arguments"]
    parameters = {p["Name"]: str(p["DefaultValue"]) for p in definition["Parameters"]}
    mounts: list[str] = []
    for entry in job["ProcessingInputs"]:
        local = Path(entry["S3Input"]["LocalPath"])
        uri = entry["S3Input"]["S3Uri"]
        host = tmp_path / "inputs" / entry["InputName"]
        host.mkdir(parents=True)
        if entry["InputName"] == "mlc-code":
            bundle = build / "code" / uri.rsplit("/", 1)[1]
            (host / bundle.name).write_bytes(bundle.read_bytes())
        else:  # the producer's output: what `make` writes for n=5
            (host / "data").write_text("0\n1\n2\n3\n4")
        mounts += ["-v", f"{host}:{local}:ro"]
    outputs: dict[str, Path] = {}
    for entry in job["ProcessingOutputConfig"]["Outputs"]:
        host = tmp_path / "outputs" / entry["OutputName"]
        host.mkdir(parents=True)
        outputs[entry["OutputName"]] = host
        mounts += ["-v", f"{host}:{entry['S3Output']['LocalPath']}"]
    app = job["AppSpecification"]
    env = [f"--env={k}={_value(v, parameters)}" for k, v in sorted(job["Environment"].items())]
    entrypoint, *entry_args = app["ContainerEntrypoint"]
    argv = [
        "podman",
        "--runtime",
        "runc",
        "run",
        "--rm",
        "--network",
        "none",
        "--tls-verify=false",
        *mounts,
        *env,
        "--entrypoint",
        entrypoint,
        reference,
        *entry_args,
        *(_value(a, parameters) for a in app["ContainerArguments"]),
    ]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    report = next(outputs["report"].rglob("report")).read_text()
    assert report == "30 3.11"  # (0+1+2+3+4) * 3, in the base image's Python
    values = json.loads((outputs["mlc-values"] / "values.json").read_text())
    assert values["output"] == 30 or 30 in values.values()


def test_promotion_copies_the_tested_images_by_digest(
    tmp_path: Path, registry: str, base_image: str, container_env: dict[str, str]
) -> None:
    """A release runs what dev tested: prod's registry gets dev's image, same digest, no build;
    a pipeline whose environment changed since is refused."""
    project = _project(tmp_path, registry, base_image)
    prod = (project / "targets" / "local-images.yaml").read_text()
    (project / "targets" / "dev-images.yaml").write_text(
        prod.replace("environment: prod", "environment: dev").replace("mlc-prod", "mlc-dev")
    )
    tested = _mlcompile(
        project, "images", "pipeline.py", "-t", "dev-images", "--out", "tested/images"
    )
    [dev_image] = tested["images"]
    dev_repository, _, digest = dev_image["image"].partition("@")
    assert "mlc-dev-steps" in dev_repository

    promote = ["images", "pipeline.py", "-t", "local-images", "--out", "release/images"]
    promote += ["--from", "tested/images"]
    promoted = _mlcompile(project, *promote)
    [image] = promoted["images"]
    assert image["image"] == f"{registry}/mlc-prod-steps@{digest}" and image["built"] is False
    compiled = _mlcompile(
        project, "compile", "pipeline.py", "-t", "local-images", "--out", "release"
    )
    assert set(compiled["manifest"]["images"].values()) == {image["image"]}

    (project / "pipeline.py").write_text(
        PIPELINE.replace("@step\ndef total", '@step(packages=["six"])\ndef total')
    )
    refused = subprocess.run(
        [sys.executable, "-m", "mlcompile", *promote],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode == 2 and "MLC504" in refused.stderr, refused.stderr
    assert "total" in refused.stderr and "Traceback" not in refused.stderr
