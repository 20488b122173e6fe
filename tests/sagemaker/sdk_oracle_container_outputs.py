"""Prints the SageMaker SDK's definition equivalent to tests/cases/container_outputs.py: a
processing container that writes two files into its outputs, and a step reading each output's
S3 prefix as an input (run in a subprocess, as sdk_oracle.py is)."""

from __future__ import annotations

from sdk_session import BUCKET, session  # first: it quiets the SDK before its import

# isort: split

from sagemaker.core.processing import Processor
from sagemaker.core.shapes import (
    ProcessingInput,
    ProcessingOutput,
    ProcessingS3Input,
    ProcessingS3Output,
)
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep

ROLE = "arn:aws:iam::111122223333:role/mlc-dev-container-outputs-exec"
IMAGE = "public.ecr.aws/docker/library/python:3.11-slim"


def processor() -> Processor:
    return Processor(
        role=ROLE,
        image_uri=IMAGE,
        instance_count=1,
        instance_type="ml.m5.large",
        entrypoint=["python3", "-c", "..."],
        sagemaker_session=session,
    )


def output(name: str) -> ProcessingOutput:
    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=f"s3://{BUCKET}/measure/{name}",
            local_path=f"/opt/ml/processing/output/{name}",
            s3_upload_mode="EndOfJob",
        ),
    )


measure = ProcessingStep(
    name="measure",
    step_args=processor().run(outputs=[output("rows"), output("label")]),
)


def reading(name: str) -> ProcessingInput:
    uri = measure.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri
    return ProcessingInput(
        input_name=f"{name}-value",
        s3_input=ProcessingS3Input(
            s3_uri=uri,
            local_path=f"/opt/ml/processing/input/{name}-value",
            s3_data_type="S3Prefix",
            s3_input_mode="File",
        ),
    )


describe = ProcessingStep(
    name="describe",
    step_args=processor().run(inputs=[reading("label"), reading("rows")]),
)
pipeline = Pipeline(
    name="mlc-dev-container-outputs", steps=[measure, describe], sagemaker_session=session
)
print(pipeline.definition())
