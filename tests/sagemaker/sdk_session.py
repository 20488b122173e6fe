"""What every SageMaker SDK oracle script starts from: the SDK quiet (it warns and logs as it
imports), and a pipeline session in the profile's region whose default bucket is the stack's
artifact bucket, so building a definition calls no AWS API. Import it before the SDK."""

from __future__ import annotations

import json
import logging
import warnings
from typing import Any

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)

import boto3  # noqa: E402
from sagemaker.core.workflow.pipeline_context import PipelineSession  # noqa: E402

BUCKET = "mlc-dev-artifacts-111122223333"
session = PipelineSession(
    boto_session=boto3.Session(region_name="eu-west-1"), default_bucket=BUCKET
)
session._default_bucket = BUCKET


def print_with_registration(pipeline: Any, registration: dict[str, Any]) -> None:
    """One line of JSON: the pipeline's definition and the InferenceSpecification of a
    CreateModelPackage request (a RegisterModel step's arguments), expressions as the SDK
    writes them."""
    found = {
        "definition": json.loads(pipeline.definition()),
        "inference": registration["InferenceSpecification"],
    }
    print(json.dumps(found, default=lambda v: v.expr))
