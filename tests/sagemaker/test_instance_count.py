"""How many instances a SageMaker job runs on: a container step's job and a batch transform
take a count from platform_options (a literal or an int pipeline parameter, as the SageMaker
samples' instance-count parameters); the compiled definition runs on the interpreter."""

from __future__ import annotations

import json
from pathlib import Path

from tests.valid_pipelines import compile_for, emulate, write

PIPELINE = '''
from mlcompile import (
    Command, Dataset, Model, Output, batch_predict, container_step, pipeline, register_model, step,
)


@container_step(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools:1.0")
def rows(data: Output[Dataset]) -> Command:
    """Two rows of two features, with a header."""
    write = "import sys; open(sys.argv[1], 'w').write('a,b\\\\n0,1\\\\n1,0\\\\n')"
    return Command(command=["python3", "-c", write], args=[data.path])


@step(packages=["scikit-learn"])
def fit(model: Output[Model]) -> None:
    from sklearn.tree import DecisionTreeClassifier

    model.save(DecisionTreeClassifier(random_state=0).fit([[0, 1], [1, 0]], [0, 1]))


@pipeline
def counted(transform_count: int = 1) -> None:
    data = rows().with_options(platform_options={"sagemaker": {"instance_count": 3}}).data
    registered = register_model(fit().model, name="tree")
    batch_predict(registered.registered_model, data).with_options(
        platform_options={"sagemaker": {"instance_count": transform_count}}
    )
'''


def test_a_container_job_and_a_transform_run_on_the_instances_asked_for(tmp_path: Path) -> None:
    path = write(tmp_path, "counted", PIPELINE)
    definition = json.loads(compile_for(path, "sagemaker-dev")["pipeline.json"])
    steps = {s["Name"]: s["Arguments"] for s in definition["Steps"]}
    assert steps["rows"]["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 3
    (transform,) = [a for a in steps.values() if "TransformResources" in a]
    assert transform["TransformResources"]["InstanceCount"] == {"Get": "Parameters.transform_count"}
    # Every other job keeps one instance.
    others = [
        a["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
        for name, a in steps.items()
        if name != "rows" and "ProcessingResources" in a
    ]
    assert others and set(others) == {1}
    ran = emulate(path, "sagemaker-dev", tmp_path / "store", "transform_count=2")
    assert ran["status"] == "succeeded", ran
