"""A container step whose command writes output values to files (an int and a str), read back as
typed values by the next step, as KFP's container components do with output parameters."""

from mlcompile import Command, Output, container_step, pipeline, step

WRITE = "import sys; open(sys.argv[1], 'w').write('41'); open(sys.argv[2], 'w').write('big')"


@container_step(image="public.ecr.aws/docker/library/python:3.11-slim")
def measure(rows: Output[int], label: Output[str]) -> Command:
    """Write one number and one word, each to the file its output names."""
    return Command(command=["python3", "-c", WRITE], args=[rows.path, label.path])


@step
def describe(rows: int, label: str) -> str:
    """The values arrive typed: rows is an int."""
    return f"{label}:{rows + 1}"


@pipeline
def container_outputs() -> str:
    """Read a container's output values in a Python step."""
    measured = measure()
    return describe(rows=measured.rows, label=measured.label).output
