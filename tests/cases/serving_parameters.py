"""Pipeline parameters that choose how a model is served, as the platforms' samples take them
when a run starts: the serving image a registration names, and the endpoint's machine type
(SageMaker's instance type, Vertex's machine type)."""

from mlcompile import Model, Output, deploy_model, pipeline, register_model, step


@step(packages=["scikit-learn"])
def fit(model: Output[Model]) -> None:
    """A small tree on two features."""
    from sklearn.tree import DecisionTreeClassifier

    model.save(DecisionTreeClassifier(max_depth=2, random_state=0).fit([[0, 1], [1, 0]], [0, 1]))


@pipeline
def serving_parameters(
    serving_image: str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/serve-sklearn:1.0",
    endpoint_instance: str = "ml.m5.large",
    endpoint_machine: str = "n1-standard-2",
) -> None:
    """Register the tree with the run's serving image and serve it on the run's machine."""
    registered = register_model(fit().outputs["model"], name="tree", serving_image=serving_image)
    deploy_model(registered.outputs["registered_model"], endpoint="tree").with_options(
        platform_options={
            "sagemaker": {"instance_type": endpoint_instance},
            "vertex": {"machine_type": endpoint_machine},
        }
    )
