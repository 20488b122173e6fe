"""Prints the SageMaker SDK's definition of tests/cases/platform_parameters.py: a processing
step whose instance type, input URI and an environment variable are pipeline parameters (run in a subprocess, as
sdk_oracle.py is)."""

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
from sagemaker.core.workflow.parameters import ParameterString
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep

instance = ParameterString(name="instance", default_value="ml.m5.xlarge")
rows_uri = ParameterString(name="rows_uri", default_value="s3://mlcompile-example-data/churn.csv")
mode = ParameterString(name="mode", default_value="full")
processor = Processor(
    role="arn:aws:iam::111122223333:role/mlc-dev-platform-parameters-exec",
    image_uri="python:3.11-slim",
    instance_count=1,
    instance_type=instance,
    entrypoint=["python3", "-m", "mlcompile.runtime", "sagemaker"],
    env={"MODE": mode},
    sagemaker_session=session,
)
data = ProcessingInput(
    input_name="data",
    s3_input=ProcessingS3Input(
        s3_uri=rows_uri,
        local_path="/opt/ml/processing/input/data",
        s3_data_type="S3Prefix",
        s3_input_mode="File",
    ),
)
values = ProcessingOutput(
    output_name="mlc-values",
    s3_output=ProcessingS3Output(
        s3_uri=f"s3://{BUCKET}/values",
        local_path="/opt/ml/processing/output/mlc-values",
        s3_upload_mode="EndOfJob",
    ),
)
step = ProcessingStep(
    name="count_rows",
    property_files=[PropertyFile(name="values", output_name="mlc-values", path="values.json")],
    step_args=processor.run(inputs=[data], outputs=[values]),
)
pipeline = Pipeline(
    name="mlc-dev-platform-parameters",
    parameters=[instance, rows_uri, mode],
    steps=[step],
    sagemaker_session=session,
)
print(pipeline.definition())
