"""Pipeline parameters that drive platform settings, as the SageMaker samples write them: the
processing instance type, the input data's S3 URI and an environment variable are chosen when a
run starts."""

from mlcompile import Dataset, Input, import_artifact, pipeline, step


@step
def count_rows(data: Input[Dataset]) -> int:
    """Count the imported rows."""
    with open(data.path) as f:
        return sum(1 for _ in f)


@pipeline
def platform_parameters(
    instance: str = "ml.m5.xlarge",
    rows_uri: str = "s3://mlcompile-example-data/churn.csv",
    mode: str = "full",
) -> int:
    """SageMaker takes the instance type from the run's parameters; elsewhere it is ignored."""
    counted = count_rows(data=import_artifact(rows_uri).artifact).with_options(
        platform_options={"sagemaker": {"instance_type": instance}}, env={"MODE": mode}
    )
    return counted.output
