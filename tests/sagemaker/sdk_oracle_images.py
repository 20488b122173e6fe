"""Prints the SageMaker SDK's steps equivalent to tests/cases/image_parameter.py and the
registration of tests/cases/serving_parameters.py: a processor and a trainer whose images (and
the trainer's instance type and count) are pipeline parameters, and a model package whose
serving image is one (run in a subprocess, as sdk_oracle.py is)."""

from __future__ import annotations

from sdk_session import (  # first: it quiets the SDK before its import
    BUCKET,
    print_with_registration,
    session,
)

# isort: split

from sagemaker.core.model_registry import get_create_model_package_request
from sagemaker.core.processing import Processor
from sagemaker.core.workflow.parameters import ParameterInteger, ParameterString
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
from sagemaker.train.configs import Compute, OutputDataConfig
from sagemaker.train.model_trainer import ModelTrainer

ROLE = "arn:aws:iam::111122223333:role/mlc-dev-image-parameter-exec"
REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
tools_image = ParameterString(name="tools_image", default_value=f"{REPOSITORY}/tools:2.0")
trainer_image = ParameterString(name="trainer_image", default_value=f"{REPOSITORY}/trainer:2.0")
trainer_instance = ParameterString(name="trainer_instance", default_value="ml.m5.xlarge")
trainer_count = ParameterInteger(name="trainer_count", default_value=1)
trainer_machine = ParameterString(name="trainer_machine", default_value="n1-standard-8")
serving_image = ParameterString(
    name="serving_image", default_value=f"{REPOSITORY}/serve-sklearn:1.0"
)

where = ProcessingStep(
    name="where",
    step_args=Processor(
        role=ROLE,
        image_uri=tools_image,
        instance_count=1,
        instance_type="ml.m5.large",
        entrypoint=["python3", "-c", "..."],
        sagemaker_session=session,
    ).run(),
)
fit = TrainingStep(
    name="fit",
    step_args=ModelTrainer(
        training_image=trainer_image,
        role=ROLE,
        sagemaker_session=session,
        compute=Compute(
            instance_type=trainer_instance, instance_count=trainer_count, volume_size_in_gb=30
        ),
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{BUCKET}/fit"),
        base_job_name="fit",
    ).train(wait=False),
)
pipeline = Pipeline(
    name="mlc-dev-image-parameter",
    parameters=[tools_image, trainer_image, trainer_instance, trainer_count, trainer_machine],
    steps=[where, fit],
    sagemaker_session=session,
)
registration = get_create_model_package_request(
    model_package_group_name="mlc-dev-serving-parameters-tree",
    containers=[{"Image": serving_image, "ModelDataUrl": f"s3://{BUCKET}/model.tar.gz"}],
    content_types=["text/csv"],
    response_types=["text/csv"],
    inference_instances=["ml.m5.large"],
    transform_instances=["ml.m5.large"],
)
print_with_registration(pipeline, registration)
