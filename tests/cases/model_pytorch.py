"""A PyTorch model saved with Model.save as TorchScript (model.pt), registered and scored. The
module cannot say which columns it reads, so the step names them. Kubeflow scores it in a
step that loads the TorchScript; SageMaker and Vertex AI have no prebuilt image that serves
model.pt as a pipeline step writes it, and refuse it (give serving_image= there)."""

from mlcompile import Dataset, Input, Model, Output, batch_predict, pipeline, register_model, step


@step
def prepare(rows: int, data: Output[Dataset]) -> None:
    """A small CSV with a header: two features and a target."""
    with open(data.path, "w") as f:
        f.write("a,b,y\n" + "".join(f"{i},{i % 3},{2 * i + i % 3}\n" for i in range(rows)))


@step(packages=["torch", "pandas"])
def fit(data: Input[Dataset], model: Output[Model]) -> None:
    """A linear layer fitted by least squares, saved as TorchScript."""
    import pandas as pd
    import torch

    frame = pd.read_csv(data.path)
    x = torch.tensor(frame[["a", "b"]].to_numpy(), dtype=torch.float32)
    y = torch.tensor(frame[["y"]].to_numpy(), dtype=torch.float32)
    layer = torch.nn.Linear(2, 1)
    solution = torch.linalg.lstsq(torch.cat([x, torch.ones(len(x), 1)], 1), y).solution
    with torch.no_grad():
        layer.weight.copy_(solution[:2].T)
        layer.bias.copy_(solution[2])
    model.save(layer, feature_names=["a", "b"])


@pipeline
def model_pytorch(rows: int = 12) -> None:
    """Fit, register, score."""
    data = prepare(rows=rows).data
    registered = register_model(fit(data=data).model, name="linear", framework="pytorch")
    batch_predict(registered.registered_model, data)
