"""Environment variables given by pipeline parameters, as the platforms' samples set a mode or a
threshold for a step's code: the step reads each as text from its environment, the same on
every platform (booleans as ``true``/``false``)."""

import os

from mlcompile import pipeline, step


@step
def configured(name: str) -> str:
    """Report the environment the step was given."""
    keys = ("GREETING", "TIMES", "RATE", "VERBOSE", "FIXED")
    return name + ": " + " ".join(f"{k}={os.environ[k]}" for k in keys)


@pipeline
def env_parameter(
    greeting: str = "hello", times: int = 2, rate: float = 0.5, verbose: bool = True
) -> dict:
    """One step whose environment comes from the run's parameters."""
    env = {"GREETING": greeting, "TIMES": times, "RATE": rate, "VERBOSE": verbose, "FIXED": "yes"}
    return {"said": configured(name="env").with_options(env=env).output}
