# class: runtime-value-in-option
# command: check {case}
# exit: 2
# expect: MLC208 {case}:16
from mlcompile import Model, Output, pipeline, register_model, step


@step
def train(model: Output[Model]) -> None:
    print(model.path)


@pipeline
def flow(image: int = 1):
    t = train()
    register_model(t.model, name="churn", framework="custom",
                   serving_image=image)
