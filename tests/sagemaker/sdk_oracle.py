"""Prints the SageMaker SDK's definition of the minimal example (run in a subprocess: the SDK
takes seconds to import and needs a region and credentials set, which the test supplies)."""

from __future__ import annotations

from sdk_session import BUCKET, session  # first: it quiets the SDK before its import

# isort: split

from sagemaker.core.processing import Processor
from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output
from sagemaker.core.workflow.functions import JsonGet
from sagemaker.core.workflow.parameters import ParameterInteger
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep

ROLE = "arn:aws:iam::111122223333:role/mlc-dev-minimal-exec"
start = ParameterInteger(name="start", default_value=3)


def processor() -> Processor:
    return Processor(
        role=ROLE,
        image_uri="python:3.11-slim",
        instance_count=1,
        instance_type="ml.m5.large",
        entrypoint=["python3", "-m", "mlcompile.runtime", "sagemaker"],
        sagemaker_session=session,
    )


def values_output() -> ProcessingOutput:
    return ProcessingOutput(
        output_name="mlc-values",
        s3_output=ProcessingS3Output(
            s3_uri=f"s3://{BUCKET}/values",
            local_path="/opt/ml/processing/output/mlc-values",
            s3_upload_mode="EndOfJob",
        ),
    )


produce_values = PropertyFile(name="values", output_name="mlc-values", path="values.json")
produce = ProcessingStep(
    name="produce",
    property_files=[produce_values],
    step_args=processor().run(
        outputs=[values_output()], arguments=["--param", "start", start.to_string()]
    ),
)
square_values = PropertyFile(name="values", output_name="mlc-values", path="values.json")
value = JsonGet(step_name="produce", property_file=produce_values, json_path="output")
square = ProcessingStep(
    name="square",
    property_files=[square_values],
    step_args=processor().run(outputs=[values_output()], arguments=["--param", "value", value]),
)
pipeline = Pipeline(
    name="mlc-dev-minimal", parameters=[start], steps=[produce, square], sagemaker_session=session
)
print(pipeline.definition())
