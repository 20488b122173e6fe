"""Compiling to SageMaker: golden files, botocore validation of every step, references,
bundles, provenance, instance mapping, refusals through the CLI, determinism, light imports."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlcompile.cli.main import app
from mlcompile.errors import DiagnosticSink
from mlcompile.ir.canonical import content_hash
from mlcompile.loader import load
from mlcompile.platforms import get
from mlcompile.platforms.sagemaker.validate import OPERATIONS, check_arguments, validate
from tests.conftest import REPO, assert_golden, build_example, profile
from tests.sagemaker.helpers import (
    GOLDEN,
    REFUSED_DIR,
    SOURCES,
    compiled,
    compiled_ok,
    definition_of,
    normalized,
)

REFUSED = sorted(p.name for p in REFUSED_DIR.glob("*.py"))
#: Sources the platform refuses as a whole, with the diagnostic and the line it points at.
REFUSED_SOURCES = {
    "examples/sweep/pipeline.py": ("MLC401", "final("),
    "examples/segments/pipeline.py": ("MLC401", "for_each("),
    "tests/cases/nested_control.py": ("MLC401", "for_each("),
    "tests/cases/model_lightgbm.py": ("MLC401", 'framework="lightgbm"'),
    "tests/cases/model_pytorch.py": ("MLC401", 'framework="pytorch"'),
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_golden(name: str) -> None:
    diagnostics, files = compiled(name)
    if files:
        assert_golden(GOLDEN / name / "pipeline.json", normalized(files["pipeline.json"]))
    else:
        report = [d.to_json() for d in diagnostics]
        assert_golden(GOLDEN / name / "refused.json", json.dumps(report, indent=2) + "\n")


def test_examples_that_must_compile() -> None:
    assert {"example-minimal", "example-churn", "example-retrain"} <= set(compiled_ok())


@pytest.mark.parametrize("name", compiled_ok())
def test_every_step_valid_for_botocore(name: str) -> None:
    steps = [s for s in definition_of(name).all_steps() if s.type in OPERATIONS]
    assert steps
    for step in steps:
        assert check_arguments(step) == [], step.name


@pytest.mark.parametrize("name", compiled_ok())
def test_every_reference_resolves_and_names_are_valid(name: str) -> None:
    sink = DiagnosticSink()
    definition = definition_of(name)
    validate(definition, sink)
    assert sink.diagnostics == []
    names = [s.name for s in definition.all_steps()]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[A-Za-z0-9\-_]{1,64}", n) for n in names)


def test_bundle_is_content_addressed_and_referenced() -> None:
    _, files = compiled("example-churn")
    (bundle,) = [k for k in files if k.startswith("code/")]
    data = files[bundle]
    sha = hashlib.sha256(data).hexdigest()
    assert bundle == f"code/{sha}.tar.gz"
    spec = files["pipeline.json"].decode()
    uri = f"s3://mlc-dev-artifacts-111122223333/mlc-dev-churn/code/{sha}.tar.gz"
    assert uri in spec
    assert set(re.findall(r"s3://[^\"]+\.tar\.gz", spec)) == {uri}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())
    assert "examples/churn/pipeline.py" in names
    assert {"mlcompile/runtime/sagemaker.py", "mlcompile/runtime/invoke.py"} <= set(names)
    assert not any(n.startswith(("mlcompile/platforms", "mlcompile/cli")) for n in names)


def test_ir_hash_in_metadata_and_tags() -> None:
    pipeline = build_example("churn")
    result = get("sagemaker").compile(pipeline, profile("sagemaker-dev"))
    spec = json.loads(result.files["pipeline.json"])
    assert spec["Version"] == "2020-12-01"
    assert spec["Metadata"]["mlcompile-ir-hash"] == content_hash(pipeline)
    info = result.manifest_extra["sagemaker"]
    assert isinstance(info, dict)
    assert info["tags"]["mlcompile:ir-hash"] == content_hash(pipeline)
    assert info["pipeline_name"] == "mlc-dev-churn"


def _steps(name: str, target: str = "sagemaker-dev") -> dict[str, dict[str, object]]:
    _, files = compiled(name, target)
    out: dict[str, dict[str, object]] = {}

    def visit(steps: list[dict[str, object]]) -> None:
        for step in steps:
            out[str(step["Name"])] = step
            if step["Type"] == "Condition":
                args = step["Arguments"]
                assert isinstance(args, dict)
                visit(args["IfSteps"] + args["ElseSteps"])

    visit(json.loads(files["pipeline.json"])["Steps"])
    return out


def test_churn_mapping() -> None:
    steps = _steps("example-churn")
    assert {n: s["Type"] for n, s in steps.items()} == {
        "make_data": "Processing",
        "split": "Processing",
        "train": "Training",
        "evaluate": "Processing",
        "condition_1": "Condition",
        "register_model": "RegisterModel",
        "deploy_model": "Processing",
        "deploy_model-baseline": "Processing",
        "batch_predict-model": "Model",
        "batch_predict": "Transform",
        "fail": "Fail",
    }
    baseline = steps["deploy_model-baseline"]["Arguments"]
    assert baseline["ProcessingInputs"][0]["S3Input"]["S3Uri"] == {  # type: ignore[index]
        "Get": "Steps.split.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    assert baseline["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"].endswith(  # type: ignore[index]
        "/monitoring/mlc-dev-churn/baseline"
    )
    assert steps["make_data"]["RetryPolicies"][0]["MaxAttempts"] == 2  # type: ignore[index]
    assert steps["make_data"]["RetryPolicies"][0]["IntervalSeconds"] == 10  # type: ignore[index]
    assert steps["train"]["Arguments"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}  # type: ignore[index]
    condition = steps["condition_1"]["Arguments"]["Conditions"]  # type: ignore[index]
    assert condition[0]["Type"] == "GreaterThanOrEqualTo"
    assert condition[0]["LeftValue"]["Std:JsonGet"]["Path"] == "auc"
    register = steps["register_model"]["Arguments"]
    assert register["ModelApprovalStatus"] == {"Get": "Parameters.approval"}  # type: ignore[index]
    assert register["ModelPackageGroupName"] == "mlc-dev-churn"  # type: ignore[index]
    args = steps["evaluate"]["Arguments"]["AppSpecification"]["ContainerArguments"]  # type: ignore[index]
    assert args[args.index("--secret") : args.index("--secret") + 4] == [
        "--secret",
        "WAREHOUSE_TOKEN",
        "churn-warehouse-token",
        "",
    ]
    assert "token" not in json.dumps(steps["evaluate"]["Arguments"]["Environment"])  # type: ignore[index]


def test_retrain_inlines_and_merges() -> None:
    steps = _steps("example-retrain")
    assert {"prepare-make_data", "prepare-split", "announce-if", "announce-else"} <= set(steps)
    assert "announce" not in steps
    spec = json.dumps(steps["announce-else"])
    assert "Steps.decide_2.PropertyFiles.values" in spec and "Steps.decide." not in spec


def test_instance_types_follow_table_and_profile() -> None:
    dev, prod = _steps("example-churn"), _steps("example-churn", "sagemaker-prod")
    resources = "ProcessingResources"
    assert (
        dev["make_data"]["Arguments"][resources]["ClusterConfig"]["InstanceType"] == "ml.m5.large"
    )  # type: ignore[index]
    assert dev["train"]["Arguments"]["ResourceConfig"]["InstanceType"] == "ml.m5.large"  # type: ignore[index]
    assert prod["train"]["Arguments"]["ResourceConfig"]["InstanceType"] == "ml.m5.2xlarge"  # type: ignore[index]
    assert prod["split"]["Arguments"][resources]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"  # type: ignore[index]
    gpu = _steps("case-step_options")["warm_up"]["Arguments"][resources]["ClusterConfig"]  # type: ignore[index]
    assert gpu["InstanceType"] == "ml.g4dn.xlarge"
    pinned = profile("sagemaker-dev").model_copy(
        update={"instance_types": {"warm_up": "ml.c5.xlarge"}}
    )
    result = get("sagemaker").compile(load(str(SOURCES["case-step_options"])).build(), pinned)
    assert '"ml.c5.xlarge"' in result.files["pipeline.json"].decode()


def test_literal_fan_out_unrolled_with_fan_in() -> None:
    steps = _steps("case-literal_fan_in")
    assert {"fit-0", "fit-1", "fit-2", "pick"} <= set(steps)
    inputs = steps["pick"]["Arguments"]["ProcessingInputs"]  # type: ignore[index]
    assert [i["InputName"] for i in inputs] == ["mlc-code", "models-0", "models-1", "models-2"]
    conditions = steps["condition_1"]["Arguments"]["Conditions"]  # type: ignore[index]
    assert [c["Type"] for c in conditions] == ["Or", "Or"]  # (a | (b & c)) as (a | b) & (a | c)
    _, files = compiled("case-literal_fan_in")
    assert files


def test_schema_lint_where_present() -> None:
    schema = REPO.parent / "shared" / "reference" / "sagemaker-pipeline-definition.schema.json"
    if not schema.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the published schema is missing: {schema}")
        pytest.skip("the published schema is not on this machine")
    text = schema.read_text()
    for name in compiled_ok():
        for step in definition_of(name).all_steps():
            assert f'"{step.type}"' in text, step.type


def _cli(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("file", REFUSED)
def test_refusal_diagnostic(file: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    rel = f"tests/sagemaker/refused/{file}"
    lines = (REPO / rel).read_text().splitlines()
    (line,) = [i for i, text in enumerate(lines, 1) if "# expect:" in text]
    code = lines[line - 1].split("# expect:")[1].strip()
    exit_code, output = _cli(["compile", rel, "--target", "sagemaker-dev", "--out", str(tmp_path)])
    assert exit_code == 2, output
    assert f"{rel}:{line}: error {code}" in output, output
    assert not (tmp_path / "pipeline.json").exists()


@pytest.mark.parametrize("rel", sorted(REFUSED_SOURCES))
def test_refused_sources(rel: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    code, marker = REFUSED_SOURCES[rel]
    lines = (REPO / rel).read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if marker in text and "import" not in text)
    exit_code, output = _cli(["compile", rel, "--target", "sagemaker-dev", "--out", str(tmp_path)])
    assert exit_code == 2, output
    assert f"{rel}:{line}: error {code}" in output, output


def test_secrets_backend_must_be_secrets_manager(tmp_path: Path) -> None:
    other = profile("sagemaker-dev").model_copy(update={"secrets_backend": "kubernetes"})
    diagnostics = get("sagemaker").check(build_example("churn"), other)
    assert any(d.code == "MLC403" and "Secrets Manager" in d.message for d in diagnostics)
