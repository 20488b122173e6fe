"""kfp's own compiler as an oracle: an importer of a parameter URI (import_artifact) and a
container component writing output parameters to files (Output[int]) compile to the same
executor specs, interfaces and placeholders as ours. (No postponed annotations here: kfp reads
the components' annotations as types.)"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcompile.loader import load
from mlcompile.platforms import get
from tests.conftest import REPO, profile

pytestmark = pytest.mark.slow


def _ours(case: str) -> dict[str, Any]:
    pipeline = load(str(REPO / "tests" / "cases" / f"{case}.py")).build()
    files = get("kubeflow").compile(pipeline, profile("kubeflow-dev")).files
    spec: dict[str, Any] = next(yaml.safe_load_all(files["pipeline.yaml"]))
    return spec


def _kfp(pipeline_func: Any, tmp_path: Path) -> dict[str, Any]:
    from kfp import compiler

    path = tmp_path / "kfp.yaml"
    compiler.Compiler().compile(pipeline_func, str(path))
    spec: dict[str, Any] = yaml.safe_load(path.read_text())
    return spec


def test_import_artifact_compiles_as_dsl_importer(tmp_path: Path) -> None:
    from kfp import dsl

    @dsl.pipeline(name="oracle")
    def oracle(rows_uri: str = "s3://mlcompile-example-data/churn.csv") -> None:
        dsl.importer(artifact_uri=rows_uri, artifact_class=dsl.Dataset, reimport=False)

    theirs = _kfp(oracle, tmp_path)
    ours = _ours("import_data")
    (their_exec,) = theirs["deploymentSpec"]["executors"].values()
    my_exec = ours["deploymentSpec"]["executors"]["exec-import-artifact"]
    for key in ("artifactUri", "typeSchema"):
        assert my_exec["importer"][key] == their_exec["importer"][key]
    (their_component,) = theirs["components"].values()
    mine = ours["components"]["comp-import-artifact"]
    assert mine["inputDefinitions"] == their_component["inputDefinitions"]
    assert mine["outputDefinitions"] == their_component["outputDefinitions"]
    their_task = next(iter(theirs["root"]["dag"]["tasks"].values()))
    my_task = ours["root"]["dag"]["tasks"]["import-artifact"]
    assert my_task["inputs"]["parameters"]["uri"] == their_task["inputs"]["parameters"]["uri"]


def test_container_outputs_compile_as_output_paths(tmp_path: Path) -> None:
    from kfp import dsl

    @dsl.container_component
    def measure(rows: dsl.OutputPath(int), label: dsl.OutputPath(str)):  # type: ignore[no-untyped-def,valid-type]
        return dsl.ContainerSpec(
            image="public.ecr.aws/docker/library/python:3.11-slim",
            command=["python3", "-c", "..."],
            args=[rows, label],
        )

    @dsl.pipeline(name="oracle")
    def oracle() -> None:
        measure()

    theirs = _kfp(oracle, tmp_path)
    ours = _ours("container_outputs")
    their_args = theirs["deploymentSpec"]["executors"]["exec-measure"]["container"]["args"]
    my_args = ours["deploymentSpec"]["executors"]["exec-measure"]["container"]["args"]
    assert my_args == their_args
    assert (
        ours["components"]["comp-measure"]["outputDefinitions"]
        == theirs["components"]["comp-measure"]["outputDefinitions"]
    )


def _image_source(spec: dict[str, Any], task: str) -> Any:
    """What a task's container image is bound to: the image is a placeholder of one of the
    task's input parameters (kfp's ``set_container_image`` form), and that input's source."""
    import re

    executor = spec["components"][spec["root"]["dag"]["tasks"][task]["componentRef"]["name"]]
    image = spec["deploymentSpec"]["executors"][executor["executorLabel"]]["container"]["image"]
    match = re.fullmatch(r"\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}", image)
    assert match, image
    return spec["root"]["dag"]["tasks"][task]["inputs"]["parameters"][match.group(1)]


def test_an_image_from_a_parameter_compiles_as_set_container_image(tmp_path: Path) -> None:
    """Item 1 of the ports: a container step's image given by a pipeline parameter is, as in
    kfp's ``set_container_image(<parameter>)``, a placeholder of a task input bound to it."""
    from kfp import dsl

    @dsl.container_component
    def where(prefix: dsl.OutputPath(str)):  # type: ignore[no-untyped-def,valid-type]
        return dsl.ContainerSpec(image="tools:1.0", command=["python3", "-c", "..."], args=[prefix])

    @dsl.pipeline(name="oracle")
    def oracle(tools_image: str = "tools:2.0") -> None:
        where().set_container_image(tools_image)

    theirs = _kfp(oracle, tmp_path)
    ours = _ours("image_parameter")
    bound = {"componentInputParameter": "tools_image"}
    assert _image_source(ours, "where") == _image_source(theirs, "where") == bound
