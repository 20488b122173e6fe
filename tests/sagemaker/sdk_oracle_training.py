"""Prints the SageMaker SDK's training steps equivalent to those of
tests/cases/training_inputs.py: a ModelTrainer with hyperparameters (pipeline parameters and a
literal) and input channels with a content type, and a bring-your-own image trained with its
own entrypoint (run in a subprocess, as sdk_oracle.py is)."""

from __future__ import annotations

from sdk_session import (  # first: it quiets the SDK before its import
    BUCKET,
    print_with_registration,
    session,
)

# isort: split

from sagemaker.core.model_registry import get_create_model_package_request
from sagemaker.core.shapes import Channel, DataSource, S3DataSource
from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import TrainingStep
from sagemaker.train.configs import Compute, OutputDataConfig
from sagemaker.train.model_trainer import ModelTrainer

ROLE = "arn:aws:iam::111122223333:role/mlc-dev-training-inputs-exec"
SKLEARN = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
TRAINER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/byo-trainer:1.0"
rows = ParameterInteger(name="rows", default_value=6)
depth = ParameterInteger(name="depth", default_value=3)
classes = ParameterString(name="classes", default_value="[0, 1]")
epochs = ParameterInteger(name="epochs", default_value=4)
extra_uri = ParameterString(name="extra_uri", default_value="s3://mlcompile-example-data/extra.csv")
prepared = f"s3://{BUCKET}/prepare/data"


def channel(name: str, uri: object, content_type: str) -> Channel:
    source = DataSource(
        s3_data_source=S3DataSource(
            s3_data_type="S3Prefix", s3_uri=uri, s3_data_distribution_type="FullyReplicated"
        )
    )
    return Channel(
        channel_name=name, data_source=source, content_type=content_type, input_mode="File"
    )


def trainer(image: str, hyperparameters: dict[str, object], name: str) -> ModelTrainer:
    return ModelTrainer(
        training_image=image,
        role=ROLE,
        sagemaker_session=session,
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1, volume_size_in_gb=30),
        hyperparameters=hyperparameters,
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{BUCKET}/{name}"),
        base_job_name=name,
    )


fit = TrainingStep(
    name="fit",
    step_args=trainer(SKLEARN, {"classes": classes, "depth": depth, "rate": 0.25}, "fit").train(
        input_data_config=[
            channel("data", prepared, "text/csv"),
            channel("extra", extra_uri, "text/csv"),
        ],
        wait=False,
    ),
)
byo = TrainingStep(
    name="byo_fit",
    step_args=trainer(TRAINER, {"epochs": epochs}, "byo_fit").train(
        input_data_config=[channel("data", prepared, "text/csv")], wait=False
    ),
)
pipeline = Pipeline(
    name="mlc-dev-training-inputs",
    parameters=[rows, depth, classes, epochs, extra_uri],
    steps=[fit, byo],
    sagemaker_session=session,
)
# A RegisterModel step's arguments are the CreateModelPackage request, which the SDK builds so.
registration = get_create_model_package_request(
    model_package_group_name="mlc-dev-training-inputs",
    containers=[{"Image": SKLEARN, "ModelDataUrl": fit.properties.ModelArtifacts.S3ModelArtifacts}],
    content_types=["text/csv"],
    response_types=["text/csv"],
    inference_instances=["ml.m5.large", "ml.c5.xlarge"],
    transform_instances=["ml.m5.large"],
)
print_with_registration(pipeline, registration)
