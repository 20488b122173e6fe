"""Training options as the DSL takes them: input content types, a training image's own
entrypoint, a registered model's instance lists; each bad value refused where it was written.
And SageMaker's CreateTrainingJob limits on hyperparameters, read from botocore."""

from __future__ import annotations

from pathlib import Path

import botocore.session

from mlcompile.ir import nodes as ir
from mlcompile.platforms import get
from tests.conftest import profile

from .helpers import build, errors, line_of, write

TRAINING = """
@step(kind="training", content_types=CONTENT)
def fit(data: Input[Dataset], model: Output[Model], depth: int = 2) -> None:
    open(model.path, "w").write(data.path)

@step
def make(data: Output[Dataset]) -> None:
    open(data.path, "w").write("1")

@pipeline
def flow(depth: int = 3):
    made = make()
    fit(data=made.data, depth=depth)
"""


def test_content_types_are_kept_per_input(tmp_path: Path) -> None:
    pipeline = build(tmp_path, TRAINING.replace("CONTENT", '{"data": "text/csv"}'))
    task = next(t for t in pipeline.body if isinstance(t, ir.Task) and t.name == "fit")
    assert task.options.content_types == {"data": "text/csv"}


def test_a_content_type_for_a_value_input_or_not_a_media_type_is_refused(tmp_path: Path) -> None:
    source = TRAINING.replace("CONTENT", '{"depth": "text/csv"}')
    (problem,) = errors(tmp_path, source)
    assert problem.code == "MLC207" and "'depth'" in problem.message and "data" in problem.hint
    source = TRAINING.replace("CONTENT", '{"data": "csv"}')
    (problem,) = errors(tmp_path, source)
    assert problem.code == "MLC207" and "not a media type" in problem.message
    assert problem.location is not None
    assert problem.location.line == line_of(source, "content_types=")


def test_options_without_content_types_keep_their_canonical_form() -> None:
    assert "content_types" not in ir.StepOptions().model_dump()
    assert ir.StepOptions(content_types={"a": "text/csv"}).model_dump()["content_types"]


CONTAINER = """
@container_step(image="alpine:3.20"KIND)
def train(data: Input[Dataset], model: Output[Model]) -> Command:
    return Command(args=["--data", data.path, "--model", model.path])

@step
def make(data: Output[Dataset]) -> None:
    open(data.path, "w").write("1")

@pipeline
def flow():
    train(data=make().data)
"""


def test_a_training_container_may_keep_its_image_entrypoint(tmp_path: Path) -> None:
    pipeline = build(tmp_path, CONTAINER.replace("KIND", ', kind="training"'))
    spec = pipeline.components["train"].container
    assert spec is not None and spec.command == () and len(spec.args) == 4
    (problem,) = errors(tmp_path, CONTAINER.replace("KIND", ""))
    assert problem.code == "MLC206" and 'kind="training"' in problem.hint


REGISTER = """
@step(kind="training")
def fit(model: Output[Model]) -> None:
    open(model.path, "w").write("m")

@pipeline
def flow():
    register_model(fit().model, name="m"OPTIONS)
"""


def test_instance_lists_and_import_content_types_are_checked(tmp_path: Path) -> None:
    pipeline = build(
        tmp_path,
        REGISTER.replace(
            "OPTIONS", ', inference_instances=["ml.m5.large", "ml.c5.large", "ml.m5.large"]'
        ),
    )
    config = pipeline.components["register_model"].builtin.config  # type: ignore[union-attr]
    assert config["inference_instances"] == ["ml.m5.large", "ml.c5.large"]
    assert "transform_instances" not in config
    source = REGISTER.replace("OPTIONS", ', transform_instances="ml.m5.large"')
    (problem,) = errors(tmp_path, source)
    assert problem.code == "MLC117" and "not a list" in problem.message
    assert problem.location is not None
    assert problem.location.line == line_of(source, "register_model(")
    source = """
@pipeline
def flow(uri: str = "s3://b/k.csv"):
    import_artifact(uri, content_type="csv")
"""
    (problem,) = errors(tmp_path, source)
    assert problem.code == "MLC117" and "media type" in problem.message


def _limits() -> tuple[int, int, int]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateTrainingJob").input_shape.members["HyperParameters"]
    return shape.metadata["max"], shape.key.metadata["max"], shape.value.metadata["max"]  # type: ignore[attr-defined]


def _sagemaker_codes(tmp_path: Path, source: str) -> list[str]:
    from mlcompile.loader import load

    pipeline = load(str(write(tmp_path, source))).build()
    diagnostics = get("sagemaker").check(pipeline, profile("sagemaker-dev"))
    return [d.code for d in diagnostics if d.severity == "error"]


def test_hyperparameters_up_to_create_training_jobs_limits_compile(tmp_path: Path) -> None:
    count, _, value = _limits()
    long_value = """
@step(kind="training")
def fit(notes: str) -> int:
    return len(notes)

@pipeline
def flow():
    fit(notes="x" * SIZE)
"""
    assert _sagemaker_codes(tmp_path, long_value.replace("SIZE", str(value))) == []
    assert _sagemaker_codes(tmp_path, long_value.replace("SIZE", str(value + 1))) == ["MLC406"]
    names = [f"h{i}" for i in range(count + 1)]
    many = f"""
@step(kind="training")
def fit({", ".join(f"{n}: int = 0" for n in names)}) -> int:
    return 0

@pipeline
def flow():
    fit({", ".join(f"{n}=1" for n in names)})
"""
    assert _sagemaker_codes(tmp_path, many) == ["MLC406"]
    fewer = many.replace(f", {names[-1]}: int = 0", "").replace(f", {names[-1]}=1", "")
    assert _sagemaker_codes(tmp_path, fewer) == []
