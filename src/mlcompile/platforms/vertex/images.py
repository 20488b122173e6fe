"""The image a Vertex step runs in when neither the step nor the profile names one.

Steps that install PyTorch or TensorFlow run in Vertex AI's prebuilt training container for
that framework (``<region group>-docker.pkg.dev/vertex-ai/training/<image>:latest``, Python
3.10, the framework preinstalled); any other step runs in a slim Python, which Vertex pulls
from Docker Hub. The step side ships with the step's code either way.
"""

from __future__ import annotations

from collections.abc import Iterable

from mlcompile.images.requirements import package_name
from mlcompile.platforms.vertex.serving import _region_group

SLIM_PYTHON = "python:3.11-slim"
#: Framework -> (CPU image, GPU image), Vertex AI's prebuilt training containers.
PREBUILT_TRAINING: dict[str, tuple[str, str]] = {
    "tensorflow": ("tf-cpu.2-14.py310", "tf-gpu.2-14.py310"),
    "pytorch": ("pytorch-xla.2-1.py310", "pytorch-gpu.2-1.py310"),
}
_FRAMEWORK_OF_PACKAGE = {"torch": "pytorch", "tensorflow": "tensorflow", "keras": "tensorflow"}


def training_image(packages: Iterable[str], region: str, gpu: bool = False) -> str:
    names = [package_name(p) for p in packages]
    framework = next((_FRAMEWORK_OF_PACKAGE[n] for n in names if n in _FRAMEWORK_OF_PACKAGE), None)
    if framework is None:
        return SLIM_PYTHON
    cpu, accelerated = PREBUILT_TRAINING[framework]
    image = accelerated if gpu else cpu
    return f"{_region_group(region)}-docker.pkg.dev/vertex-ai/training/{image}:latest"
