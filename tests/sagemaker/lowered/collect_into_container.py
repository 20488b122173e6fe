"""A loop's results collected into a container step's arguments: the container gets the same
JSON text on SageMaker as on the other platforms (strings quoted and escaped), and a list of
artifacts as the JSON list of their paths."""

from mlcompile import (
    Command,
    Dataset,
    Input,
    Model,
    Output,
    collect,
    container_step,
    for_each,
    pipeline,
    step,
)

WRITE = "import sys; open(sys.argv[-1], 'w').write(' | '.join(sys.argv[1:-1]))"
COUNT = "import json, sys; open(sys.argv[2], 'w').write(str(len(json.loads(sys.argv[1]))))"


@step
def score(rate: float) -> float:
    """A number per item."""
    return rate * 2


@step
def word(rate: float) -> str:
    """Text that needs quoting in JSON."""
    return f'rate "{rate}"\\n'


@step
def fit(rate: float, model: Output[Model]) -> dict:
    """A model and a small dict per item."""
    with open(model.path, "w") as f:
        f.write(str(rate))
    return {"rate": rate, "ok": True}


@container_step(image="public.ecr.aws/docker/library/python:3.11-slim")
def show(scores: list, words: list, fits: list, said: Output[Dataset]) -> Command:
    """Write what the container was given."""
    return Command(command=["python3", "-c", WRITE, scores, words, fits, said.path])


@container_step(image="public.ecr.aws/docker/library/python:3.11-slim")
def count(models: Input[list[Model]], counted: Output[Dataset]) -> Command:
    """Count the model paths it was given."""
    return Command(command=["python3", "-c", COUNT, models.path, counted.path])


@step
def read(data: Input[Dataset]) -> str:
    """The container's text, as a result."""
    with open(data.path) as f:
        return f.read()


@pipeline
def collect_into_container() -> dict:
    """Three items; one container step reads all the results."""
    with for_each([0.5, 1.0, 2.5]) as rate:
        scored = score(rate=rate)
        said = word(rate=rate)
        fitted = fit(rate=rate)
    shown = show(
        scores=collect(scored.output), words=collect(said.output), fits=collect(fitted.output)
    )
    counted = count(models=collect(fitted.model))
    return {"shown": read(data=shown.said).output, "counted": read(data=counted.counted).output}
