# class: runtime-value-in-option
# command: check {case}
# exit: 2
# expect: MLC208 {case}:16
from mlcompile import Model, Output, deploy_model, pipeline, register_model, step


@step(packages=["scikit-learn"])
def fit(model: Output[Model]) -> None:
    model.save(None)


@pipeline
def served_where_the_run_says(endpoint_name: str = "tree") -> None:
    registered = register_model(fit().outputs["model"], name="tree")
    deploy_model(registered.outputs["registered_model"], endpoint=endpoint_name)
