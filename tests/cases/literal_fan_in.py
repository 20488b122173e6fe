"""Fan-out over a literal list, fan-in of values and artifacts, a compound gate, and a batch
scoring of the registered winner."""

from mlcompile import (
    Dataset,
    Input,
    Model,
    Output,
    batch_predict,
    collect,
    fail,
    for_each,
    otherwise,
    pipeline,
    register_model,
    step,
    when,
)

RATES = [0.1, 0.5, 0.9]


@step
def prepare(rows: int, data: Output[Dataset]) -> None:
    """Write a tiny CSV."""
    with open(data.path, "w") as f:
        f.write("\n".join(f"{i},{i % 2}" for i in range(rows)))


@step(packages=["scikit-learn"])
def fit(data: Input[Dataset], rate: float, model: Output[Model]) -> float:
    """Fit a constant classifier on the rows (both columns); the score is the rate."""
    import pickle

    from sklearn.dummy import DummyClassifier

    with open(data.path) as f:
        rows = [[float(v) for v in line.split(",")] for line in f if line.strip()]
    fitted = DummyClassifier(strategy="constant", constant=int(rate > 0.5))
    fitted.fit(rows, [int(r[1]) for r in rows])
    with open(model.path, "wb") as f:
        pickle.dump(fitted, f)
    return rate


@step
def pick(scores: list, models: Input[list[Model]], best: Output[Model]) -> float:
    """Copy the best model."""
    index = max(range(len(scores)), key=lambda i: scores[i])
    with open(models[index].path, "rb") as src, open(best.path, "wb") as dst:
        dst.write(src.read())
    return float(scores[index])


@pipeline
def literal_fan_in(rows: int = 20, threshold: float = 0.5, label: str = "run") -> None:
    """Three fits two at a time; keep the best if it beats the threshold or the run is forced."""
    data = prepare(rows=rows)
    with for_each(RATES, parallelism=2) as rate:
        trial = fit(data=data.data, rate=rate)
    best = pick(scores=collect(trial.output), models=collect(trial.model))
    with when((best.output > threshold) | ((rows > 10) & (label != "skip"))):
        registered = register_model(best.best, name="fan-in", framework="sklearn")
        batch_predict(registered.registered_model, data.data)
    with otherwise():
        fail(f"best score {best.output} is below {threshold}")
