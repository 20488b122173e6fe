"""Hyperparameter sweep: fan out over settings, fan in to pick the best, always report.

The data set is made with a fixed seed (scikit-learn's make_classification), so no download.
"""

from mlcompile import (
    Dataset,
    Input,
    Model,
    Output,
    Resources,
    collect,
    final,
    for_each,
    pipeline,
    step,
)

SKLEARN = ["scikit-learn>=1.4"]

GRID = [
    {"c": 0.01, "penalty": "l2"},
    {"c": 0.1, "penalty": "l2"},
    {"c": 1.0, "penalty": "l2"},
    {"c": 10.0, "penalty": "l2"},
]


@step(packages=SKLEARN)
def make_data(samples: int, data: Output[Dataset]) -> None:
    """A fixed synthetic classification problem, saved as CSV (label in the last column)."""
    import numpy as np
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=samples, n_features=8, n_informative=4, random_state=3)
    np.savetxt(data.path, np.column_stack([x, y]), delimiter=",")


@step(packages=SKLEARN, resources=Resources(cpu=1, memory="1Gi"), retries=1)
def fit(data: Input[Dataset], c: float, penalty: str, model: Output[Model]) -> float:
    """Fit a logistic regression with one setting; return its validation accuracy."""
    import pickle

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    table = np.loadtxt(data.path, delimiter=",")
    x_train, x_val, y_train, y_val = train_test_split(table[:, :-1], table[:, -1], random_state=0)
    clf = LogisticRegression(C=c, penalty=penalty, max_iter=500).fit(x_train, y_train)
    with open(model.path, "wb") as f:
        pickle.dump(clf, f)
    return float(clf.score(x_val, y_val))


@step
def pick_best(scores: list, models: Input[list[Model]], best: Output[Model]) -> float:
    """Copy the model with the highest score to ``best``; return that score."""
    import shutil

    index = max(range(len(scores)), key=lambda i: scores[i])
    shutil.copyfile(models[index].path, best.path)
    return float(scores[index])


@step(cache=False)
def report(sweep: str) -> str:
    """Runs last, whether the sweep succeeded or not (clean-up and notification go here)."""
    message = f"sweep {sweep} finished"
    print(message)
    return message


@pipeline
def sweep(samples: int = 600, name: str = "logistic-c") -> dict:
    """Fit one model per setting in parallel (two at a time) and keep the best."""
    final(report(sweep=name))
    data = make_data(samples=samples)
    with for_each(GRID, parallelism=2) as setting:
        trial = fit(data=data.data, c=setting["c"], penalty=setting["penalty"])
    best = pick_best(scores=collect(trial.output), models=collect(trial.model))
    return {"best_score": best.output}
