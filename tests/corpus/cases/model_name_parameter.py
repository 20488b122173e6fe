# class: runtime-value-in-option
# command: check {case}
# exit: 2
# expect: MLC208 {case}:15
from mlcompile import Model, Output, pipeline, register_model, step


@step(packages=["scikit-learn"])
def fit(model: Output[Model]) -> None:
    model.save(None)


@pipeline
def named_by_the_run(model_name: str = "tree") -> None:
    register_model(fit().outputs["model"], name=model_name)
