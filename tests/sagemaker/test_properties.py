"""The typed Get resolver: every expression of every compiled example and golden case reads a
property botocore's Describe shapes have, of the kind the field it fills takes; and the
resolver tells the ways an expression can be wrong."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mlcompile.platforms.sagemaker import definition as d
from mlcompile.platforms.sagemaker.properties import Resolver, Unresolved, check
from tests.sagemaker.helpers import compiled_ok, definition_of


@pytest.mark.parametrize("name", compiled_ok())
def test_every_expression_of_a_golden_case_fits_its_field(name: str) -> None:
    definition = definition_of(name)
    assert check(definition) == []
    # Every Get is resolved, not skipped: the definitions read step properties.
    resolver = Resolver(definition)
    paths = [p for s in definition.all_steps() for p in _gets(d.to_json(dict(s.arguments)))]
    for path in paths:
        if ".PropertyFiles." not in path:
            assert resolver.get(path).kind != "property-file", path


def _gets(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["Get"]] if isinstance(value.get("Get"), str) else []
        return found + [g for v in value.values() for g in _gets(v)]
    if isinstance(value, list):
        return [g for v in value for g in _gets(v)]
    return []


def _minimal() -> d.Definition:
    return definition_of("example-minimal")


def _processing(definition: d.Definition) -> d.Step:
    return next(s for s in definition.all_steps() if s.type == "Processing")


def _with_argument(definition: d.Definition, step: d.Step, value: Any) -> d.Definition:
    """``definition`` with ``value`` appended to ``step``'s container arguments."""
    args = dict(step.arguments)
    app = dict(args["AppSpecification"])
    app["ContainerArguments"] = [*app["ContainerArguments"], value]
    args["AppSpecification"] = app
    changed = replace(step, arguments=args)
    return replace(definition, steps=tuple(changed if s is step else s for s in definition.steps))


def test_parameters_execution_variables_and_step_properties_have_kinds() -> None:
    definition = definition_of("example-churn")
    resolver = Resolver(definition)
    assert resolver.get("Parameters.rows").kind == "integer"
    assert resolver.get("Parameters.min_auc").kind == "float"
    assert resolver.get("Parameters.approval").free
    assert resolver.get("Execution.PipelineExecutionId").kind == "string"
    uri = resolver.get("Steps.train.ModelArtifacts.S3ModelArtifacts")
    assert uri.kind == "string" and uri.sample == "s3://bucket/prefix/file"
    arn = resolver.get("Steps.register_model.ModelPackageArn")
    assert arn.sample is not None and arn.sample.startswith("arn:aws:sagemaker:")
    assert resolver.get("Steps.train.TrainingTimeInSeconds").kind == "integer"
    assert resolver.get("Steps.train.FinalMetricDataList").kind == "list"
    output = "Steps.split.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    assert resolver.get(output).sample == "s3://bucket/prefix/file"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("Parameters.nope", "is not a pipeline parameter"),
        ("Execution.Nope", "is not an execution variable"),
        ("Steps.nope.ModelName", "is not a step of the pipeline"),
        ("Steps.train.ProcessingOutputConfig.Outputs['x'].S3Output.S3Uri", "is not a property"),
        ("Steps.split.ProcessingOutputConfig.Outputs['nope'].S3Output.S3Uri", "not an output"),
        ("Steps.split.PropertyFiles.nope", "is not a property file"),
        ("Steps.condition_1.Anything", "Condition step, which has none"),
        ("Steps.train.ModelArtifacts..S3ModelArtifacts", "is not a property path"),
        ("Steps.train.ModelArtifacts[0]", "not a list or map"),
        ("Steps.train.FinalMetricDataList['auc'].Value", "not a metric that training step"),
    ],
)
def test_a_get_that_names_nothing_is_unresolved(path: str, reason: str) -> None:
    resolver = Resolver(definition_of("example-churn"))
    with pytest.raises(Unresolved, match=reason.replace("(", r"\(").replace("[", r"\[")):
        resolver.get(path)


def test_a_number_where_the_api_wants_text_is_a_mismatch() -> None:
    definition = _minimal()
    step = _processing(definition)
    param = next(p for p in definition.parameters if p.type == "Integer")
    (problem,) = check(_with_argument(definition, step, d.Get(f"Parameters.{param.name}")))
    assert problem.kind == "mismatch" and "render it with Std:Join" in problem.message
    assert problem.field.startswith("AppSpecification.ContainerArguments[")
    assert (
        check(_with_argument(definition, step, d.Join("", (d.Get(f"Parameters.{param.name}"),))))
        == []
    )


def test_a_property_file_outside_std_jsonget_is_a_mismatch() -> None:
    definition = _minimal()
    step = _processing(definition)
    other = next(s for s in definition.all_steps() if s.property_files and s is not step)
    read = d.Get(f"Steps.{other.name}.PropertyFiles.{other.property_files[0].name}")
    (problem,) = check(_with_argument(definition, step, read))
    assert "is a property-file, not a value" in problem.message


def test_a_condition_comparing_text_with_a_number_is_a_mismatch() -> None:
    definition = definition_of("example-churn")
    gate = next(s for s in definition.all_steps() if s.type == "Condition")
    broken = d.Compare("GreaterThan", d.Get("Parameters.min_auc"), d.Get("Parameters.approval"))
    arguments = {**gate.arguments, "Conditions": [broken]}
    steps = tuple(replace(s, arguments=arguments) if s is gate else s for s in definition.steps)
    problems = [p for p in check(replace(definition, steps=steps)) if p.step == gate.name]
    assert [p.kind for p in problems] == ["mismatch"]
    assert "values of one kind only" in problems[0].message
