"""Choosing a SageMaker instance type for a step: profile overrides first, then a table.

Order: ``profile.instance_types[<step name>]``, then ``['gpu']`` for a step that asks for GPUs,
then ``['training']`` for a training step, then the smallest instance of the table below that
satisfies the step's cpu/memory/GPU request, then ``['default']``, then ``ml.m5.large``
(``ml.m5.xlarge`` for training).

The table only offers instances the step's API takes: the instance-type enum of its request in
botocore's SageMaker service model (``CreateProcessingJob``, ``CreateTrainingJob``,
``CreateTransformJob``, ``CreateEndpointConfig``), read when compiling, so a pick is never one
the API refuses (an A100 is an ``ml.p4d``, which training jobs and endpoints take and processing
and transform jobs do not). A caller names the API with ``api``; without it a training step's
instance is for ``CreateTrainingJob`` and any other step's must suit ``CreateProcessingJob`` and
``CreateEndpointConfig`` alike. When no instance fits, :class:`NoInstance` says what exists.

A GPU type is any spelling the catalogue (:mod:`mlcompile.platforms.gpus`) knows (``A100``,
``nvidia-tesla-t4``, ``NVIDIA_TESLA_T4``), which names the instance families with that GPU.
Separate limits (``cpu_limit``, ``memory_limit``) do not change the pick: a job has its whole
instance, so the requests size it.
"""

from __future__ import annotations

import functools
import math
from typing import Literal

from mlcompile.ir import nodes as ir
from mlcompile.platforms import gpus
from mlcompile.profiles import Profile
from mlcompile.runtime.instance_storage import has_instance_storage as has_instance_storage

GIB = 1024**3

Api = Literal["processing", "training", "transform", "endpoint"]

#: Each API's operation, and the path to the instance type in its request.
API_MEMBERS: dict[Api, tuple[str, tuple[str, ...]]] = {
    "processing": ("CreateProcessingJob", ("ProcessingResources", "ClusterConfig", "InstanceType")),
    "training": ("CreateTrainingJob", ("ResourceConfig", "InstanceType")),
    "transform": ("CreateTransformJob", ("TransformResources", "InstanceType")),
    "endpoint": ("CreateEndpointConfig", ("ProductionVariants", "[]", "InstanceType")),
}

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

#: Instance family (the catalogue's ``sagemaker`` names) -> (instance type, GPUs, vCPUs,
#: memory GiB), fewest vCPUs first.
GPU_INSTANCES: dict[str, tuple[tuple[str, int, int, int], ...]] = {
    "g4dn": (
        ("ml.g4dn.xlarge", 1, 4, 16),
        ("ml.g4dn.2xlarge", 1, 8, 32),
        ("ml.g4dn.4xlarge", 1, 16, 64),
        ("ml.g4dn.8xlarge", 1, 32, 128),
        ("ml.g4dn.12xlarge", 4, 48, 192),
        ("ml.g4dn.16xlarge", 1, 64, 256),
    ),
    "g5": (
        ("ml.g5.xlarge", 1, 4, 16),
        ("ml.g5.2xlarge", 1, 8, 32),
        ("ml.g5.4xlarge", 1, 16, 64),
        ("ml.g5.8xlarge", 1, 32, 128),
        ("ml.g5.12xlarge", 4, 48, 192),
        ("ml.g5.16xlarge", 1, 64, 256),
        ("ml.g5.24xlarge", 4, 96, 384),
        ("ml.g5.48xlarge", 8, 192, 768),
    ),
    "g6": (
        ("ml.g6.xlarge", 1, 4, 16),
        ("ml.g6.2xlarge", 1, 8, 32),
        ("ml.g6.4xlarge", 1, 16, 64),
        ("ml.g6.8xlarge", 1, 32, 128),
        ("ml.g6.12xlarge", 4, 48, 192),
        ("ml.g6.16xlarge", 1, 64, 256),
        ("ml.g6.24xlarge", 4, 96, 384),
        ("ml.g6.48xlarge", 8, 192, 768),
    ),
    "g6e": (
        ("ml.g6e.xlarge", 1, 4, 32),
        ("ml.g6e.2xlarge", 1, 8, 64),
        ("ml.g6e.4xlarge", 1, 16, 128),
        ("ml.g6e.8xlarge", 1, 32, 256),
        ("ml.g6e.12xlarge", 4, 48, 384),
        ("ml.g6e.16xlarge", 1, 64, 512),
        ("ml.g6e.24xlarge", 4, 96, 768),
        ("ml.g6e.48xlarge", 8, 192, 1536),
    ),
    "p3": (
        ("ml.p3.2xlarge", 1, 8, 61),
        ("ml.p3.8xlarge", 4, 32, 244),
        ("ml.p3.16xlarge", 8, 64, 488),
    ),
    "p3dn": (("ml.p3dn.24xlarge", 8, 96, 768),),
    "p4d": (("ml.p4d.24xlarge", 8, 96, 1152),),
    "p4de": (("ml.p4de.24xlarge", 8, 96, 1152),),
    "p5": (("ml.p5.4xlarge", 1, 16, 256), ("ml.p5.48xlarge", 8, 192, 2048)),
    "p5e": (("ml.p5e.48xlarge", 8, 192, 2048),),
    "p5en": (("ml.p5en.48xlarge", 8, 192, 2048),),
    "p6-b200": (("ml.p6-b200.48xlarge", 8, 192, 2048),),
}
DEFAULT_GPU_TYPE = gpus.DEFAULT


class NoInstance(ValueError):
    """No instance in the table satisfies the request; the message says what was asked and
    what exists."""


@functools.cache
def offered(api: Api) -> frozenset[str]:
    """The instance types ``api``'s request takes: its enum in botocore's service model."""
    from mlcompile.platforms.sagemaker.validate import service_model

    operation, path = API_MEMBERS[api]
    shape = service_model().operation_model(operation).input_shape
    for member in path:
        shape = shape.member if member == "[]" else shape.members[member]
    return frozenset(shape.enum)


def apis_of(options: ir.StepOptions, api: Api | None = None) -> tuple[Api, ...]:
    """The APIs whose enum the step's instance must be in."""
    if api is not None:
        return (api,)
    return ("training",) if options.role == "training" else ("processing", "endpoint")


def instance_type(
    step: str,
    task_name: str,
    options: ir.StepOptions,
    profile: Profile,
    api: Api | None = None,
) -> str:
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
        return _from_table(r, apis_of(options, api))
    if "default" in overrides:
        return overrides["default"]
    return "ml.m5.xlarge" if options.role == "training" else "ml.m5.large"


def _taken(apis: tuple[Api, ...]) -> frozenset[str]:
    return frozenset.intersection(*(offered(a) for a in apis))


def _operations(apis: tuple[Api, ...] | list[Api], verb: str = "") -> str:
    """``CreateTrainingJob`` or ``CreateTrainingJob and CreateEndpointConfig``, with ``verb``
    (``take``, ``does not``) agreeing."""
    names = [API_MEMBERS[a][0] for a in apis]
    text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    if verb == "take":
        verb = "takes" if len(names) == 1 else "take"
    elif verb == "does not" and len(names) > 1:
        verb = "do not"
    return f"{text} {verb}".rstrip()


def gpu_instances(gpu: gpus.Gpu) -> list[tuple[str, int, int, int]]:
    """Every instance with ``gpu``'s GPUs, fewest vCPUs first."""
    rows = [row for family in gpu.sagemaker for row in GPU_INSTANCES.get(family, ())]
    return sorted(rows, key=lambda row: (row[2], row[1], row[3]))


def offered_gpus(apis: tuple[Api, ...]) -> list[gpus.Gpu]:
    """The catalogue's GPUs with an instance every one of ``apis`` takes."""
    taken = _taken(apis)
    return [g for g in gpus.GPUS if any(row[0] in taken for row in gpu_instances(g))]


def _from_table(r: ir.Resources, apis: tuple[Api, ...]) -> str:
    cpu = r.cpu or 0
    mem = (r.memory_bytes or 0) / GIB
    taken = _taken(apis)
    if r.gpu:
        gpu = gpus.lookup(r.gpu_type)
        available = f"GPU types {_operations(apis, 'take')}: " + gpus.describe(offered_gpus(apis))
        if gpu is None:
            raise NoInstance(f"{gpus.unknown(r.gpu_type or '')} {available}")
        rows = gpu_instances(gpu)
        if not rows:
            raise NoInstance(
                f"GPU type {r.gpu_type!r} ({gpu.model}) is not offered on SageMaker; {available}"
            )
        usable = [row for row in rows if row[0] in taken]
        if not usable:
            names = [row[0] for row in rows]
            others: list[Api] = [a for a in API_MEMBERS if any(n in offered(a) for n in names)]
            refusing = [a for a in apis if not any(n in offered(a) for n in names)]
            which = _operations(others, "take") if others else "no pipeline step takes"
            raise NoInstance(
                f"SageMaker has {gpu.model} GPUs only on {', '.join(names)}, which {which} "
                f"and {_operations(refusing, 'does not')}; {available}"
            )
        for name, count, vcpu, gib in usable:
            if count >= r.gpu and vcpu >= cpu and gib >= mem:
                return name
        most = max(usable, key=lambda row: (row[1], row[2], row[3]))
        raise NoInstance(
            f"no {gpu.name} instance that {_operations(apis, 'take')} has {_asked(r.gpu, cpu, mem)};"
            f" the largest is {most[0]} ({most[1]} GPUs, {most[2]} CPUs, {most[3]} GiB)"
        )
    rows_cpu = [row for row in CPU_INSTANCES if row[0] in taken]
    for name, vcpu, gib in rows_cpu:
        if vcpu >= cpu and gib >= mem:
            return name
    largest_cpu = rows_cpu[-1] if rows_cpu else ("none", 0, 0)
    raise NoInstance(
        f"no instance of the table that {_operations(apis, 'take')} has {_asked(0, cpu, mem)};"
        f" the largest is {largest_cpu[0]} ({largest_cpu[1]} CPUs, {largest_cpu[2]} GiB)"
    )


def _asked(gpu: int, cpu: float, mem: float) -> str:
    parts = [f"{gpu} GPUs"] if gpu else []
    parts += [f"{cpu:g} CPUs"] if cpu else []
    parts += [f"{mem:g} GiB"] if mem else []
    return " and ".join(parts) or "that"


def volume_gb(options: ir.StepOptions) -> int:
    """The storage volume: the disk request rounded up to GiB, at least the SDK's 30."""
    disk = options.resources.disk_bytes
    return max(30, math.ceil(disk / GIB)) if disk else 30
