"""Choosing a Compute Engine machine type and a Vertex accelerator for a custom job, a deployed
model or a batch prediction job: profile overrides first, then a table.

Order: ``profile.instance_types[<step name>]``, then ``['gpu']`` for a step that asks for GPUs,
then ``['training']`` for a training step, then ``platform_options['vertex']['machine_type']``,
then the smallest machine of the table below that satisfies the step's cpu/memory/GPU request,
then ``['default']``, then ``n1-standard-4`` (custom jobs) or ``n1-standard-2`` (serving).

A GPU type is any spelling the catalogue (:mod:`mlcompile.platforms.gpus`) knows (``A100``,
``nvidia-tesla-a100``, ``NVIDIA_TESLA_A100``); the default is the T4.

| GPU (canonical)        | Vertex accelerator     | machines (GPUs per machine)                |
|------------------------|------------------------|--------------------------------------------|
| nvidia-tesla-t4        | NVIDIA_TESLA_T4        | any N1 machine of the table (1, 2, 4)      |
| nvidia-tesla-p4        | NVIDIA_TESLA_P4        | any N1 machine of the table (1, 2, 4)      |
| nvidia-tesla-v100      | NVIDIA_TESLA_V100      | any N1 machine of the table (1, 2, 4, 8)   |
| nvidia-tesla-p100      | NVIDIA_TESLA_P100      | any N1 machine of the table (1, 2, 4)      |
| nvidia-l4              | NVIDIA_L4              | g2-standard-4..96 (1, 2, 4, 8)             |
| nvidia-tesla-a100      | NVIDIA_TESLA_A100      | a2-highgpu-1g/2g/4g/8g                     |
| nvidia-a100-80gb       | NVIDIA_A100_80GB       | a2-ultragpu-1g/2g/4g/8g                    |
| nvidia-h100-80gb       | NVIDIA_H100_80GB       | a3-highgpu-8g (8)                          |
| nvidia-h100-mega-80gb  | NVIDIA_H100_MEGA_80GB  | a3-megagpu-8g (8)                          |
| nvidia-h200-141gb      | NVIDIA_H200_141GB      | a3-ultragpu-8g (8)                         |
| nvidia-b200            | NVIDIA_B200            | a4-highgpu-8g (8)                          |

A3 machines with fewer than eight H100s run custom jobs only as Spot or Flex-start VMs, so a
request for fewer H100s gets the eight-GPU machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlcompile.ir import nodes as ir
from mlcompile.platforms import gpus as catalogue
from mlcompile.profiles import Profile

GIB = 1024**3

#: (machine type, vCPUs, memory GiB), smallest first: general purpose, then high memory.
N1_MACHINES: tuple[tuple[str, int, float], ...] = (
    ("n1-standard-2", 2, 7.5),
    ("n1-standard-4", 4, 15),
    ("n1-highmem-4", 4, 26),
    ("n1-standard-8", 8, 30),
    ("n1-highmem-8", 8, 52),
    ("n1-standard-16", 16, 60),
    ("n1-highmem-16", 16, 104),
    ("n1-standard-32", 32, 120),
    ("n1-highmem-32", 32, 208),
    ("n1-standard-64", 64, 240),
    ("n1-highmem-64", 64, 416),
    ("n1-standard-96", 96, 360),
    ("n1-highmem-96", 96, 624),
)
#: Custom jobs start at four vCPUs; serving and batch prediction may use two.
SMALLEST_JOB_MACHINE = "n1-standard-4"
SMALLEST_SERVING_MACHINE = "n1-standard-2"


@dataclass(frozen=True)
class Accelerator:
    """A GPU model: its Vertex enum name, and the machines that carry it with their counts."""

    vertex_name: str
    #: (machine type, GPUs, vCPUs, memory GiB) for machines with a fixed GPU count.
    fixed: tuple[tuple[str, int, int, float], ...] = ()
    #: GPU counts an N1 machine may attach (the accelerator is added to any N1 machine).
    n1_counts: tuple[int, ...] = ()


#: Canonical GPU name (the catalogue's) -> the Vertex accelerator and its machines.
ACCELERATORS: dict[str, Accelerator] = {
    "nvidia-tesla-t4": Accelerator("NVIDIA_TESLA_T4", n1_counts=(1, 2, 4)),
    "nvidia-tesla-p4": Accelerator("NVIDIA_TESLA_P4", n1_counts=(1, 2, 4)),
    "nvidia-tesla-v100": Accelerator("NVIDIA_TESLA_V100", n1_counts=(1, 2, 4, 8)),
    "nvidia-tesla-p100": Accelerator("NVIDIA_TESLA_P100", n1_counts=(1, 2, 4)),
    "nvidia-l4": Accelerator(
        "NVIDIA_L4",
        fixed=(
            ("g2-standard-4", 1, 4, 16),
            ("g2-standard-8", 1, 8, 32),
            ("g2-standard-16", 1, 16, 64),
            ("g2-standard-24", 2, 24, 96),
            ("g2-standard-48", 4, 48, 192),
            ("g2-standard-96", 8, 96, 384),
        ),
    ),
    "nvidia-tesla-a100": Accelerator(
        "NVIDIA_TESLA_A100",
        fixed=(
            ("a2-highgpu-1g", 1, 12, 85),
            ("a2-highgpu-2g", 2, 24, 170),
            ("a2-highgpu-4g", 4, 48, 340),
            ("a2-highgpu-8g", 8, 96, 680),
        ),
    ),
    "nvidia-a100-80gb": Accelerator(
        "NVIDIA_A100_80GB",
        fixed=(
            ("a2-ultragpu-1g", 1, 12, 170),
            ("a2-ultragpu-2g", 2, 24, 340),
            ("a2-ultragpu-4g", 4, 48, 680),
            ("a2-ultragpu-8g", 8, 96, 1360),
        ),
    ),
    "nvidia-h100-80gb": Accelerator("NVIDIA_H100_80GB", fixed=(("a3-highgpu-8g", 8, 208, 1872),)),
    "nvidia-h100-mega-80gb": Accelerator(
        "NVIDIA_H100_MEGA_80GB", fixed=(("a3-megagpu-8g", 8, 208, 1872),)
    ),
    "nvidia-h200-141gb": Accelerator(
        "NVIDIA_H200_141GB", fixed=(("a3-ultragpu-8g", 8, 224, 2952),)
    ),
    "nvidia-b200": Accelerator("NVIDIA_B200", fixed=(("a4-highgpu-8g", 8, 224, 3968),)),
}
DEFAULT_GPU_TYPE = catalogue.DEFAULT


class NoMachine(ValueError):
    """No machine in the table satisfies the request; the message says what was asked."""


class NoGpuType(NoMachine):
    """Vertex AI has no accelerator of the GPU type asked for; the message lists what it has."""


@dataclass(frozen=True)
class MachineSpec:
    """A Vertex MachineSpec: the machine type, and the accelerator type and count (or none)."""

    machine_type: str
    accelerator_type: str = ""
    accelerator_count: int = 0


def accelerator(r: ir.Resources) -> Accelerator:
    """The Vertex accelerator of the step's GPU type, in any spelling the catalogue knows."""
    gpu = catalogue.lookup(r.gpu_type)
    offered = [g for g in catalogue.GPUS if g.name in ACCELERATORS]
    if gpu is None:
        raise NoGpuType(
            f"{catalogue.unknown(r.gpu_type or '')} Vertex AI offers {catalogue.describe(offered)}"
        )
    if gpu.name not in ACCELERATORS:
        raise NoGpuType(
            f"GPU type {r.gpu_type!r} ({gpu.model}) is not offered on Vertex AI; Vertex AI "
            f"offers {catalogue.describe(offered)}"
        )
    return ACCELERATORS[gpu.name]


def machine_parameter(step: str, options: ir.StepOptions, profile: Profile) -> str | None:
    """The pipeline parameter a deployment or batch job takes its machine type from, when the
    step's ``platform_options['vertex']['machine_type']`` is one and the profile names no
    machine for the step (GCPC's ModelDeployOp and ModelBatchPredictOp take it as a task
    input, so it is resolved when the run starts)."""
    r = options.resources
    if step in profile.instance_types or (r.gpu and "gpu" in profile.instance_types):
        return None
    return ir.option_parameter(options.platform_options.get("vertex", {}).get("machine_type"))


def machine_spec(
    step: str, options: ir.StepOptions, profile: Profile, *, serving: bool = False
) -> MachineSpec:
    """The machine a custom job (or, with ``serving``, a deployment or batch job) runs on."""
    r = options.resources
    gpus = (accelerator(r).vertex_name, r.gpu) if r.gpu else ("", 0)
    overrides = profile.instance_types
    for key, applies in (
        (step, True),
        ("gpu", r.gpu > 0),
        ("training", options.role == "training" and not serving),
    ):
        if applies and key in overrides:
            return MachineSpec(overrides[key], *gpus)
    chosen = options.platform_options.get("vertex", {}).get("machine_type")
    if isinstance(chosen, str):
        return MachineSpec(chosen, *gpus)
    smallest = SMALLEST_SERVING_MACHINE if serving else SMALLEST_JOB_MACHINE
    if r.gpu or r.cpu or r.memory_bytes:
        return _from_table(r, smallest)
    return MachineSpec(overrides.get("default", smallest), *gpus)


def _from_table(r: ir.Resources, smallest: str) -> MachineSpec:
    cpu = r.cpu or 0
    mem = (r.memory_bytes or 0) / GIB
    names = [m[0] for m in N1_MACHINES]
    n1 = N1_MACHINES[names.index(smallest) :]
    if r.gpu:
        acc = accelerator(r)
        for name, gpus, vcpu, gib in acc.fixed:
            if gpus >= r.gpu and vcpu >= cpu and gib >= mem:
                return MachineSpec(name, acc.vertex_name, gpus)
        count = next((c for c in acc.n1_counts if c >= r.gpu), None)
        if count is not None:
            for name, vcpu_n1, gib_n1 in n1:
                if vcpu_n1 >= cpu and gib_n1 >= mem:
                    return MachineSpec(name, acc.vertex_name, count)
        raise NoMachine(
            f"no {catalogue.canonical(r.gpu_type)} machine has {r.gpu} GPUs, {cpu:g} CPUs, {mem:g} GiB"
        )
    for name, vcpu, gib in n1:
        if vcpu >= cpu and gib >= mem:
            return MachineSpec(name)
    raise NoMachine(f"no machine has {cpu:g} CPUs and {mem:g} GiB")
