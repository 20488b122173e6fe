"""Container steps whose image a run chooses, as the platforms' samples pass a training image:
a processing container and a training container, each given its image by a str parameter; the
training job's machine, and on SageMaker how many instances it runs on, are the run's too."""

from mlcompile import Command, Input, Model, Output, container_step, pipeline, step

SAY = "import sys; open(sys.argv[1], 'w').write(sys.prefix)"
FIT = "import sys, pathlib; pathlib.Path(sys.argv[1]).mkdir(parents=True); open(sys.argv[1] + '/m', 'w').write('1')"


@container_step(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools:1.0")
def where(prefix: Output[str]) -> Command:
    """Say which Python ran this."""
    return Command(command=["python3", "-c", SAY], args=[prefix.path])


@container_step(image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/trainer:1.0", kind="training")
def fit(model: Output[Model]) -> Command:
    """Write a model folder."""
    return Command(command=["python3", "-c", FIT], args=[model.path])


@step
def said(prefix: str, model: Input[Model]) -> str:
    """Pass the value on, once the model is written."""
    return prefix


@pipeline
def image_parameter(
    tools_image: str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tools:2.0",
    trainer_image: str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/trainer:2.0",
    trainer_instance: str = "ml.m5.xlarge",
    trainer_count: int = 1,
    trainer_machine: str = "n1-standard-8",
) -> str:
    """Both images, and the training machine, come from the run's parameters."""
    prefix = where().with_options(image=tools_image).prefix
    machines = {
        "sagemaker": {"instance_type": trainer_instance, "instance_count": trainer_count},
        "vertex": {"machine_type": trainer_machine},
    }
    model = fit().with_options(image=trainer_image, platform_options=machines).model
    return said(prefix=prefix, model=model).output
