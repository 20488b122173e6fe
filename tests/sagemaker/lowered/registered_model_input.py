"""A registered model read by a step as its Input[Model]: the step gets the model's files (the
training job's archive, unpacked), not the model package ARN the registry step reports."""

import pickle

from mlcompile import Dataset, Input, Model, Output, pipeline, register_model, step


@step
def make(data: Output[Dataset]) -> None:
    """Two columns, the label last."""
    with open(data.path, "w") as f:
        f.write("\n".join(f"{i},{i % 2}" for i in range(20)))


@step(kind="training")
def fit(data: Input[Dataset], model: Output[Model]) -> None:
    """A stand-in model: the rows it saw."""
    with open(data.path) as f:
        rows = f.read().splitlines()
    with open(model.path, "wb") as f:
        pickle.dump({"rows": len(rows)}, f)


@step
def pack(model: Output[Model]) -> None:
    """A model written by a processing step (a folder in S3, not an archive)."""
    with open(model.path, "wb") as f:
        pickle.dump({"rows": 0}, f)


@step
def inspect(model: Input[Model]) -> int:
    """Read the registered model's file back."""
    with open(model.path, "rb") as f:
        return int(pickle.load(f)["rows"])


@pipeline
def registered_model_input() -> dict:
    """Train, register, read the registered model; the same for a processing step's model."""
    trained = fit(data=make().data)
    registered = register_model(trained.model, name="reread")
    packed = register_model(pack().model, name="reread-packed")
    return {
        "trained": inspect(model=registered.registered_model).output,
        "packed": inspect(model=packed.registered_model).output,
    }
