"""Pipelines SageMaker once refused or got wrong, now lowered (``tests/sagemaker/lowered``).

Each is compiled through the real compiler and checked by the same validators as the golden
cases (botocore's request shapes, references, names, the typed ``Get`` resolver); where the
emulator can run it, the compiled definition runs on this machine and gives what the embedded
runner gives.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mlcompile.errors import Diagnostic, DiagnosticSink
from mlcompile.loader import load
from mlcompile.platforms import get
from mlcompile.platforms.sagemaker.definition import Definition
from mlcompile.platforms.sagemaker.properties import check as check_expressions
from mlcompile.platforms.sagemaker.validate import OPERATIONS, check_arguments, validate
from tests.conftest import REPO, profile
from tests.emulate.test_kfp_ir import _cli

LOWERED_DIR = REPO / "tests" / "sagemaker" / "lowered"
LOWERED = sorted(p.name for p in LOWERED_DIR.glob("*.py"))


@cache
def compiled(file: str) -> tuple[list[Diagnostic], dict[str, Any], dict[str, object]]:
    """(diagnostics, definition JSON, manifest extra) of a lowered case; it must compile."""
    platform = get("sagemaker")
    pipeline = load(str(LOWERED_DIR / file)).build()
    diagnostics = platform.check(pipeline, profile("sagemaker-dev"))
    errors = [str(d) for d in diagnostics if d.severity == "error"]
    assert not errors, "\n".join(errors)
    output = platform.compile(pipeline, profile("sagemaker-dev"))
    return diagnostics, json.loads(output.files["pipeline.json"]), output.manifest_extra


def typed(file: str) -> Definition:
    """The typed definition of a lowered case (the validators take step models)."""
    from mlcompile.bundle import code_bundle
    from mlcompile.platforms.sagemaker.emit import Emitter
    from mlcompile.platforms.sagemaker.lowering import lower

    pipeline = load(str(LOWERED_DIR / file)).build()
    sink = DiagnosticSink()
    emitter = Emitter(
        pipeline, lower(pipeline, sink), profile("sagemaker-dev"), code_bundle(pipeline), sink
    )
    return emitter.definition()


def steps_of(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def visit(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            out[str(step["Name"])] = step
            if step["Type"] == "Condition":
                visit(step["Arguments"]["IfSteps"] + step["Arguments"]["ElseSteps"])

    visit(definition["Steps"])
    return out


def emulated(file: str, tmp_path: Path, *params: str) -> dict[str, Any]:
    rel = f"tests/sagemaker/lowered/{file}"
    given = [a for p in params for a in ("-p", p)]
    return _cli("run", rel, "-t", "sagemaker-dev", "--store", str(tmp_path / "sagemaker"), *given)


def embedded(file: str, tmp_path: Path, *params: str) -> dict[str, Any]:
    rel = f"tests/sagemaker/lowered/{file}"
    given = [a for p in params for a in ("-p", p)]
    return _cli("run", rel, "--store", str(tmp_path / "embedded"), *given)


def agree(file: str, sagemaker: dict[str, Any], local: dict[str, Any]) -> None:
    """The emulated run did what the embedded run did: the same outputs, and each IR step's
    SageMaker steps (by the manifest's step_names) ended as it did; of the copies of a step
    placed in both branches of a condition, one ran and the other was skipped."""
    assert sagemaker["status"] == local["status"], sagemaker
    assert sagemaker["outputs"] == local["outputs"]
    info = compiled(file)[2]["sagemaker"]
    assert isinstance(info, dict)
    statuses = {s["name"]: s["status"] for s in sagemaker["steps"]}
    for step in local["steps"]:
        names = info["step_names"][step["name"]]
        made = [statuses[n] for n in names if n in statuses]
        copies = len(names) == 2 and names[0].endswith("-if") and names[1].endswith("-else")
        if copies and step["status"] == "done":
            assert sorted(made) == ["done", "skipped"], step["name"]
        else:
            assert set(made) == {step["status"]}, step["name"]


@pytest.mark.parametrize("file", LOWERED)
def test_lowered_case_compiles_and_validates(file: str) -> None:
    compiled(file)
    definition = typed(file)
    sink = DiagnosticSink()
    validate(definition, sink)
    assert [str(d) for d in sink.diagnostics] == []
    assert check_expressions(definition) == []
    for step in definition.all_steps():
        if step.type in OPERATIONS:
            assert check_arguments(step) == [], step.name


# ----- retries above SageMaker's 20 ------------------------------------------------------------


def test_retries_above_twenty_are_capped_with_a_warning() -> None:
    diagnostics, definition, _ = compiled("retries_capped.py")
    (warning,) = [d for d in diagnostics if d.code == "MLC405"]
    assert warning.severity == "warning" and warning.step == "flaky"
    assert "retries 25 times" in warning.message and "at most 20" in warning.message
    assert warning.location is not None and warning.location.line == 15
    policies = steps_of(definition)["flaky"]["RetryPolicies"]
    assert [p["MaxAttempts"] for p in policies] == [20, 20]


def test_the_capped_retries_warning_is_in_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from mlcompile.cli.main import app

    monkeypatch.chdir(REPO)
    rel = "tests/sagemaker/lowered/retries_capped.py"
    result = CliRunner().invoke(
        app, ["compile", rel, "-t", "sagemaker-dev", "--out", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [w["code"] for w in manifest["warnings"]] == ["MLC405"]


# ----- names past 64 characters ----------------------------------------------------------------


def test_long_lowered_names_are_shortened_uniquely_and_recorded() -> None:
    _, definition, extra = compiled("long_names.py")
    names = list(steps_of(definition))
    assert len(names) == len(set(names)) and all(len(n) <= 64 for n in names)
    info = extra["sagemaker"]
    assert isinstance(info, dict)
    recorded = info["step_names"]
    inner = recorded[
        "feature_preparation_stage/a_step_with_a_rather_long_descriptive_name_for_clarity"
    ]
    looped = [
        recorded[f"a_step_with_a_rather_long_descriptive_name_for_clarity_and_more[{i}]"]
        for i in (0, 1)
    ]
    assert inner[0].startswith("feature_preparation_stage-a_step_with") and len(inner[0]) == 64
    assert looped[0] != looped[1]
    # Every reference follows the new names: the condition and the reader of the loop.
    text = json.dumps(definition)
    referenced = set(re.findall(r'"Get": "Steps\.([^."]+)\.', text))
    assert referenced <= set(names)
    assert {*inner, *looped[0], *looped[1]} <= referenced


def test_shortening_is_stable_and_keeps_short_names() -> None:
    from mlcompile.platforms.sagemaker.names import step_name

    long = "x" * 70
    assert step_name(long) == step_name(long) and len(step_name(long)) == 64
    assert step_name(long) != step_name(long + "y")
    assert step_name("fit-0") == "fit-0"
    assert step_name("a" * 64) == "a" * 64


def test_long_names_run_on_the_emulator_as_embedded(tmp_path: Path) -> None:
    sagemaker, local = emulated("long_names.py", tmp_path), embedded("long_names.py", tmp_path)
    assert sagemaker["status"] == "succeeded" and sagemaker["outputs"] == {"second": 4}
    agree("long_names.py", sagemaker, local)


# ----- a registered model read as a step's model -----------------------------------------------


def test_a_registered_model_is_read_from_the_registered_model_data() -> None:
    _, definition, _ = compiled("registered_model_input.py")
    steps = steps_of(definition)
    uris = {
        name: step["Arguments"]["ProcessingInputs"][1]["S3Input"]["S3Uri"]
        for name, step in steps.items()
        if name.startswith("inspect")
    }
    container = "InferenceSpecification.Containers[0]"
    assert uris == {
        "inspect": {"Get": f"Steps.register_model.{container}.ModelDataUrl"},
        "inspect_2": {
            "Get": f"Steps.register_model_2.{container}.ModelDataSource.S3DataSource.S3Uri"
        },
    }
    args = steps["inspect"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert args[args.index("--archive") + 1] == "/opt/ml/processing/input/model"
    assert args[args.index("--input") + 2] == "/opt/ml/processing/input/model/model"
    assert "ModelPackageArn" not in json.dumps(definition)


def test_the_resolver_refuses_a_model_package_arn_as_an_s3_uri() -> None:
    from dataclasses import replace

    from mlcompile.platforms.sagemaker import definition as d

    def arn(value: Any) -> Any:
        if isinstance(value, d.Get) and ".InferenceSpecification." in value.path:
            return d.Get(value.path.split(".InferenceSpecification.")[0] + ".ModelPackageArn")
        if isinstance(value, dict):
            return {k: arn(v) for k, v in value.items()}
        if isinstance(value, list):
            return [arn(v) for v in value]
        return value

    definition = typed("registered_model_input.py")
    broken = replace(
        definition,
        steps=tuple(replace(s, arguments=arn(dict(s.arguments))) for s in definition.steps),
    )
    problems = check_expressions(broken)
    assert {(p.step, p.field) for p in problems} == {
        ("inspect", "ProcessingInputs[1].S3Input.S3Uri"),
        ("inspect_2", "ProcessingInputs[1].S3Input.S3Uri"),
    }
    assert all("ModelPackageArn" in p.message and "refuses" in p.message for p in problems)


def test_a_registered_model_runs_on_the_emulator(tmp_path: Path) -> None:
    run = emulated("registered_model_input.py", tmp_path)
    assert run["status"] == "succeeded", run
    # The step reads the model's own file: the training job's archive, unpacked, and the
    # processing step's folder.
    assert run["outputs"] == {"trained": 20, "packed": 0}


# ----- a merged value read by more than one step -----------------------------------------------


def test_every_reader_of_a_merge_and_of_its_readers_is_placed_in_both_branches() -> None:
    _, definition, extra = compiled("merges.py")
    info = extra["sagemaker"]
    assert isinstance(info, dict)
    names = info["step_names"]
    for ir_step in ("label_3", "shout", "both", "condition_2", "label_4", "label_5"):
        assert names[ir_step] == [f"{names[ir_step][0][:-3]}-if", f"{names[ir_step][0][:-3]}-else"]
    (gate,) = definition["Steps"]
    branches = {"if": gate["Arguments"]["IfSteps"], "else": gate["Arguments"]["ElseSteps"]}
    for side, body in branches.items():
        steps = {s["Name"]: s for s in body}
        reads = json.dumps(steps[f"both-{side}"]["Arguments"])
        assert f"Steps.label_3-{side}." in reads and f"Steps.shout-{side}." in reads
        assert steps[f"label_5-{side}"]["DependsOn"] == [f"both-{side}"]
        gate_inner = json.dumps(steps[f"condition_2-{side}"]["Arguments"]["Conditions"])
        assert f"Steps.both-{side}." in gate_inner
        source = "label" if side == "if" else "label_2"
        assert f"Steps.{source}.PropertyFiles" in json.dumps(steps[f"label_3-{side}"])
    outputs = json.loads(definition["Metadata"]["mlcompile-output-joined"])
    assert [o["Std:JsonGet"]["PropertyFile"]["Get"] for o in outputs["mlcompile:OneOf"]] == [
        "Steps.both-if.PropertyFiles.values",
        "Steps.both-else.PropertyFiles.values",
    ]


@pytest.mark.parametrize("go", ["true", "false"])
def test_merges_run_on_the_emulator_as_embedded(tmp_path: Path, go: str) -> None:
    sagemaker = emulated("merges.py", tmp_path, f"go={go}")
    local = embedded("merges.py", tmp_path, f"go={go}")
    said = "yes" if go == "true" else "no"
    assert sagemaker["outputs"] == {"said": said, "joined": f"{said} {said.upper()}!"}
    agree("merges.py", sagemaker, local)


# ----- collect() into a container step ---------------------------------------------------------


def test_a_collected_list_is_joined_into_the_container_argument() -> None:
    _, definition, _ = compiled("collect_into_container.py")
    steps = steps_of(definition)
    command = steps["show"]["Arguments"]["AppSpecification"]["ContainerEntrypoint"]
    scores = command[3]["Std:Join"]["Values"]
    assert scores[0] == "[" and scores[-1] == "]" and scores[2] == ", "
    assert scores[1] == {
        "Std:JsonGet": {
            "Path": "output",
            "PropertyFile": {"Get": "Steps.score-0.PropertyFiles.values-json"},
        }
    }
    producer = steps["word-1"]
    assert {
        "PropertyFileName": "values-json",
        "OutputName": "mlc-values",
        "FilePath": "values-json.json",
    } in producer["PropertyFiles"]
    args = producer["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert args[args.index("--json-values") + 1].endswith("/mlc-values/values-json.json")
    models = steps["count"]["Arguments"]["AppSpecification"]["ContainerEntrypoint"][3]
    assert json.loads(models) == [f"/opt/ml/processing/input/models-{i}/model" for i in range(3)]
    # Steps no container reads in a list write no JSON text.
    assert "--json-values" not in json.dumps(steps["read"])


def test_collected_lists_give_the_container_the_embedded_runs_text(tmp_path: Path) -> None:
    sagemaker = emulated("collect_into_container.py", tmp_path)
    local = embedded("collect_into_container.py", tmp_path)
    agree("collect_into_container.py", sagemaker, local)
    assert sagemaker["outputs"]["counted"] == "3"
    scores, words, fits = sagemaker["outputs"]["shown"].split(" | ")
    assert json.loads(scores) == [1.0, 2.0, 5.0]
    assert json.loads(words) == [f'rate "{r}"\\n' for r in (0.5, 1.0, 2.5)]
    assert json.loads(fits) == [{"ok": True, "rate": r} for r in (0.5, 1.0, 2.5)]


# ----- batch_predict of a model nothing registers ----------------------------------------------


def test_batch_predict_names_the_framework_of_an_unregistered_model() -> None:
    _, definition, _ = compiled("batch_predict_framework.py")
    model = steps_of(definition)["batch_predict-model"]["Arguments"]["PrimaryContainer"]
    environment = model.pop("Environment")
    assert model == {
        "Image": "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "ModelDataUrl": {"Get": "Steps.fit.ModelArtifacts.S3ModelArtifacts"},
    }
    # The scikit-learn container serves a model only through a script: ours, from the bundle.
    assert environment["SAGEMAKER_PROGRAM"] == "mlcompile_serving.py"
    assert re.fullmatch(
        r"s3://.+/code/[0-9a-f]{64}\.tar\.gz", environment["SAGEMAKER_SUBMIT_DIRECTORY"]
    )


def test_batch_predicts_framework_picks_the_serving_image_on_sagemaker_and_vertex(
    tmp_path: Path,
) -> None:
    """The framework batch_predict names wins over what the training step's packages suggest,
    on both platforms that serve the model in a framework's image."""
    source = (LOWERED_DIR / "batch_predict_framework.py").read_text()
    file = tmp_path / "xgb.py"
    file.write_text(source.replace('framework="sklearn"', 'framework="xgboost"'))
    pipeline = load(str(file)).build()
    sagemaker = get("sagemaker").compile(pipeline, profile("sagemaker-dev"))
    # The serving version that loads what Model.save writes with the pinned XGBoost.
    assert "sagemaker-xgboost:3.0-5" in sagemaker.files["pipeline.json"].decode()
    vertex = get("vertex").compile(pipeline, profile("vertex-dev"))
    spec = vertex.files["pipeline.yaml"].decode()
    assert "prediction/xgboost-cpu" in spec and "prediction/sklearn-cpu" not in spec


def test_an_unknown_framework_is_still_refused_with_the_fix_in_the_hint() -> None:
    pipeline = load(str(REPO / "tests/sagemaker/refused/batch_predict_unregistered.py")).build()
    diagnostics = get("sagemaker").check(pipeline, profile("sagemaker-dev"))
    (refusal,) = [d for d in diagnostics if d.severity == "error"]
    assert refusal.code == "MLC403" and "framework='sklearn'" in refusal.hint


def test_a_batch_predict_framework_must_be_known_and_literal() -> None:
    from mlcompile import Dataset, Model, Output, batch_predict, pipeline, step
    from mlcompile.errors import ValidationError

    @step
    def fit(model: Output[Model], data: Output[Dataset]) -> None:
        """Fit."""

    @pipeline
    def unknown() -> None:
        fitted = fit()
        batch_predict(fitted.model, fitted.data, framework="caffe")

    with pytest.raises(ValidationError, match="batch_predict framework 'caffe' is not supported"):
        unknown.build()


def test_batch_predict_framework_runs_on_the_emulator(tmp_path: Path) -> None:
    sagemaker = emulated("batch_predict_framework.py", tmp_path)
    local = embedded("batch_predict_framework.py", tmp_path)
    assert sagemaker["outputs"] == {"rows": 12}
    agree("batch_predict_framework.py", sagemaker, local)


# ----- a training step with metrics, other artifacts and returned values -----------------------


def test_a_training_step_reports_its_numbers_as_metrics_and_archives_the_rest() -> None:
    _, definition, _ = compiled("training_outputs.py")
    steps = steps_of(definition)
    fit = steps["fit"]["Arguments"]
    spec = fit["AlgorithmSpecification"]
    assert spec["MetricDefinitions"] == [
        {"Name": "rows", "Regex": "mlcompile-metric rows=(.*?);"},
        {"Name": "loss", "Regex": "mlcompile-metric loss=(.*?);"},
        {"Name": "metrics:auc", "Regex": "mlcompile-metric metrics:auc=(.*?);"},
    ]
    args = spec["ContainerArguments"]
    assert "--metrics" in args
    outputs = {args[i + 1]: args[i + 2] for i, a in enumerate(args) if a == "--output"}
    assert outputs == {
        "model": "/opt/ml/model/model",
        "metrics": "/opt/ml/output/data/metrics",
        "report": "/opt/ml/output/data/report",
    }
    archive = {
        "Std:Join": {
            "On": "/",
            "Values": [
                {"Get": "Steps.fit.OutputDataConfig.S3OutputPath"},
                {"Get": "Steps.fit.TrainingJobName"},
                "output",
                "output.tar.gz",
            ],
        }
    }
    check = steps["check"]["Arguments"]
    uris = {i["InputName"]: i["S3Input"]["S3Uri"] for i in check["ProcessingInputs"]}
    # One channel per archive, whatever number of inputs read it.
    assert uris == {
        "mlc-code": uris["mlc-code"],
        "auc": archive,
        "model": {"Get": "Steps.fit.ModelArtifacts.S3ModelArtifacts"},
    }
    argv = check["AppSpecification"]["ContainerArguments"]
    folder = "/opt/ml/processing/input/auc"
    assert argv.count("--archive") == 2
    for name, file in (("rows", "values.json"), ("label", "values.json"), ("auc", "metrics")):
        at = argv.index(name, argv.index("--value"))
        assert argv[at - 1 : at + 3] == ["--value", name, f"{folder}/{file}", name]
    (gate,) = [s for s in steps.values() if s["Type"] == "Condition"]
    reads = json.dumps(gate["Arguments"]["Conditions"])
    assert "Steps.fit.FinalMetricDataList['metrics:auc'].Value" in reads
    assert "Steps.fit.FinalMetricDataList['rows'].Value" in reads
    loss = json.loads(definition["Metadata"]["mlcompile-output-loss"])
    assert loss == {
        "mlcompile:ArchiveGet": {"S3Uri": archive, "File": "values.json", "Path": "loss"}
    }


def test_a_metric_the_training_step_does_not_define_is_an_unresolved_reference() -> None:
    from dataclasses import replace

    from mlcompile.platforms.sagemaker import definition as d

    definition = typed("training_outputs.py")

    def unknown(value: Any) -> Any:
        if isinstance(value, d.Get) and "FinalMetricDataList" in value.path:
            return d.Get(value.path.replace("metrics:auc", "metrics:f1-score"))
        if isinstance(value, d.Compare):
            return d.Compare(value.type, unknown(value.left), unknown(value.right))
        if isinstance(value, d.OrCondition):
            return d.OrCondition(tuple(unknown(c) for c in value.operands))
        if isinstance(value, list):
            return [unknown(v) for v in value]
        return value

    steps = tuple(
        replace(s, arguments={**s.arguments, "Conditions": unknown(s.arguments["Conditions"])})
        if s.type == "Condition"
        else s
        for s in definition.steps
    )
    (problem,) = check_expressions(replace(definition, steps=steps))
    assert (
        problem.kind == "unresolved"
        and "is not a metric that training step defines" in problem.message
    )


@pytest.mark.parametrize("min_auc", ["0.8", "0.9"])
def test_training_outputs_run_on_the_emulator_as_embedded(tmp_path: Path, min_auc: str) -> None:
    sagemaker = emulated("training_outputs.py", tmp_path, f"min_auc={min_auc}")
    local = embedded("training_outputs.py", tmp_path, f"min_auc={min_auc}")
    agree("training_outputs.py", sagemaker, local)
    assert sagemaker["status"] == ("succeeded" if min_auc == "0.8" else "failed")
    checked = json.loads(sagemaker["outputs"]["checked"])
    # Exact values, however the metrics round them: read from the job's output.tar.gz.
    assert checked == {
        "auc": 0.8125,
        "classes": ["0", "1"],
        "label": 'fitted "well"',
        "loss": 0.123456789,
        "metrics": {"auc": 0.8125, "f1-score": 0.7},
        "model": 20,
        "report": 20,
        "rows": 20,
    }
    assert sagemaker["outputs"]["loss"] == 0.123456789


def test_the_step_side_prints_what_the_metric_definitions_find(tmp_path: Path) -> None:
    import contextlib
    import io

    from mlcompile.dsl.artifacts import Metrics
    from mlcompile.emulate.sagemaker import _final_metrics
    from mlcompile.platforms.sagemaker.training import METRIC_LINE, metric_definition
    from mlcompile.runtime import sagemaker as step_side

    assert step_side.METRIC_LINE == METRIC_LINE
    metrics = Metrics(str(tmp_path / "metrics"))
    metrics.log_metric("auc", 0.1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        step_side.print_metrics({"rows": 3, "ok": True, "name": "x"}, {"metrics": metrics})
    log = out.getvalue()
    assert log.splitlines() == ["mlcompile-metric rows=3.0;", "mlcompile-metric metrics:auc=0.1;"]
    definitions = [metric_definition(n) for n in ("rows", "metrics:auc", "ok")]
    found = _final_metrics(definitions, "noise\n" + log)
    assert found["rows"] == 3.0 and "ok" not in found
    # The API's MetricData.Value is a 32-bit float: 0.1 comes back rounded.
    assert found["metrics:auc"] != 0.1 and abs(found["metrics:auc"] - 0.1) < 1e-7
