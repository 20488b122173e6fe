"""Data that already lives in a bucket: a CSV object and a folder (prefix) of files, imported by
URI parameters, read by steps like any artifact; locally the store hashes the copy by content."""

import os

from mlcompile import Dataset, Input, import_artifact, pipeline, step


@step
def count_rows(data: Input[Dataset]) -> int:
    """The imported object arrives as a file."""
    with open(data.path) as f:
        return sum(1 for _ in f)


@step
def count_files(parts: Input[Dataset]) -> int:
    """The imported prefix arrives as a folder."""
    return len([name for name in os.listdir(parts.path) if not name.startswith(".")])


@step
def total(rows: int, files: int) -> int:
    """Both counts, so the run's one output depends on both imports."""
    return rows * 100 + files


@pipeline
def import_data(
    rows_uri: str = "s3://mlcompile-example-data/churn.csv",
    parts_uri: str = "s3://mlcompile-example-data/parts/",
) -> int:
    """Count the rows of one object and the files under one prefix."""
    rows = count_rows(data=import_artifact(rows_uri).artifact)
    files = count_files(parts=import_artifact(parts_uri).artifact)
    return total(rows=rows.output, files=files.output).output
