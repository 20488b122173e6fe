"""A step whose own code fails once and succeeds when retried: every platform retries it
(SageMaker's RetryPolicies retry only service faults, so there the step side retries inside the
job)."""

import os

from mlcompile import Retry, pipeline, step


@step(retries=Retry(count=2, backoff="1s", factor=2))
def flaky(marker: str) -> int:
    """Fail on the first attempt: the marker file says an attempt already ran."""
    if marker and not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("the first attempt fails")
    return 7


@pipeline
def retry_own_failure(marker: str = "") -> int:
    """The pipeline's output is the step's result, from its second attempt."""
    return flaky(marker=marker).output
