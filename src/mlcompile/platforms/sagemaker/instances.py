"""Choosing a SageMaker instance type for a step: profile overrides first, then a table.

Order: ``profile.instance_types[<step name>]``, then ``['gpu']`` for a step that asks for GPUs,
then ``['training']`` for a training step, then the smallest instance of the table below that
satisfies the step's cpu/memory/GPU request, then ``['default']``, then ``ml.m5.large``
(``ml.m5.xlarge`` for training). The API enum of the step's operation checks the result.
"""

from __future__ import annotations

import math
import re

from mlcompile.ir import nodes as ir
from mlcompile.profiles import Profile

GIB = 1024**3

#: (instance type, vCPUs, memory GiB): general purpose, then memory optimised.
CPU_INSTANCES: tuple[tuple[str, int, int], ...] = (
    ("ml.m5.large", 2, 8),
    ("ml.m5.xlarge", 4, 16),
    ("ml.r5.xlarge", 4, 32),
    ("ml.m5.2xlarge", 8, 32),
    ("ml.r5.2xlarge", 8, 64),
    ("ml.m5.4xlarge", 16, 64),
    ("ml.r5.4xlarge", 16, 128),
    ("ml.m5.12xlarge", 48, 192),
    ("ml.r5.12xlarge", 48, 384),
    ("ml.m5.24xlarge", 96, 384),
    ("ml.r5.24xlarge", 96, 768),
)

#: GPU type -> (instance type, GPUs, vCPUs, memory GiB), smallest first.
GPU_INSTANCES: dict[str, tuple[tuple[str, int, int, int], ...]] = {
    "nvidia-tesla-t4": (
        ("ml.g4dn.xlarge", 1, 4, 16),
        ("ml.g4dn.2xlarge", 1, 8, 32),
        ("ml.g4dn.12xlarge", 4, 48, 192),
    ),
    "nvidia-a10g": (
        ("ml.g5.xlarge", 1, 4, 16),
        ("ml.g5.2xlarge", 1, 8, 32),
        ("ml.g5.12xlarge", 4, 48, 192),
        ("ml.g5.48xlarge", 8, 192, 768),
    ),
    "nvidia-tesla-v100": (
        ("ml.p3.2xlarge", 1, 8, 61),
        ("ml.p3.8xlarge", 4, 32, 244),
        ("ml.p3.16xlarge", 8, 64, 488),
    ),
    "nvidia-a100": (("ml.p4d.24xlarge", 8, 96, 1152),),
}
DEFAULT_GPU_TYPE = "nvidia-tesla-t4"


class NoInstance(ValueError):
    """No instance in the table satisfies the request; the message says what was asked."""


def instance_type(step: str, task_name: str, options: ir.StepOptions, profile: Profile) -> str:
    overrides = profile.instance_types
    sagemaker_options = options.platform_options.get("sagemaker", {})
    r = options.resources
    for key, applies in (
        (step, True),
        (task_name, True),
        ("gpu", r.gpu > 0),
        ("training", options.role == "training"),
    ):
        if applies and key in overrides:
            return overrides[key]
    chosen = sagemaker_options.get("instance_type")
    if isinstance(chosen, str):
        return chosen
    if r.gpu or r.cpu or r.memory_bytes:
        return _from_table(r)
    if "default" in overrides:
        return overrides["default"]
    return "ml.m5.xlarge" if options.role == "training" else "ml.m5.large"


def _from_table(r: ir.Resources) -> str:
    cpu = r.cpu or 0
    mem = (r.memory_bytes or 0) / GIB
    if r.gpu:
        gpu_type = r.gpu_type or DEFAULT_GPU_TYPE
        if gpu_type not in GPU_INSTANCES:
            raise NoInstance(
                f"GPU type {gpu_type!r} is not offered; SageMaker has {', '.join(GPU_INSTANCES)}"
            )
        for name, gpus, vcpu, gib in GPU_INSTANCES[gpu_type]:
            if gpus >= r.gpu and vcpu >= cpu and gib >= mem:
                return name
        raise NoInstance(f"no {gpu_type} instance has {r.gpu} GPUs, {cpu} CPUs, {mem:g} GiB")
    for name, vcpu, gib in CPU_INSTANCES:
        if vcpu >= cpu and gib >= mem:
            return name
    raise NoInstance(f"no instance has {cpu} CPUs and {mem:g} GiB")


def volume_gb(options: ir.StepOptions) -> int:
    """The storage volume: the disk request rounded up to GiB, at least the SDK's 30."""
    disk = options.resources.disk_bytes
    return max(30, math.ceil(disk / GIB)) if disk else 30


#: Families whose instance store is NVMe without a "d" in the name (AWS "Instance Store Volumes").
_NVME_FAMILIES = frozenset({"g5", "g6", "g6e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"})


def has_instance_storage(instance: str) -> bool:
    """Whether ``instance`` (``ml.<family>.<size>``) has local NVMe storage, which the hardware
    encrypts: SageMaker rejects a volume KMS key for those (``ml.g4dn``, ``ml.m5d``, ``ml.g5``)."""
    parts = instance.split(".")
    family = parts[1] if len(parts) == 3 else ""
    generation = re.match(r"[a-z]+\d+([a-z-]*)$", family)
    return family in _NVME_FAMILIES or bool(generation and "d" in generation.group(1))
