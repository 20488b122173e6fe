"""Choosing a Compute Engine machine type and a Vertex accelerator for a custom job, a deployed
model or a batch prediction job: profile overrides first, then a table.

Order: ``profile.instance_types[<step name>]``, then ``['gpu']`` for a step that asks for GPUs,
then ``['training']`` for a training step, then ``platform_options['vertex']['machine_type']``,
then the smallest machine of the table below that satisfies the step's cpu/memory/GPU request,
then ``['default']``, then ``n1-standard-4`` (custom jobs) or ``n1-standard-2`` (serving).

| GPU type (``gpu_type``)  | Vertex accelerator  | machines (GPUs per machine)                |
|--------------------------|---------------------|--------------------------------------------|
| nvidia-tesla-t4 (default)| NVIDIA_TESLA_T4     | any N1 machine of the table (1, 2, 4)      |
| nvidia-tesla-v100        | NVIDIA_TESLA_V100   | any N1 machine of the table (1, 2, 4, 8)   |
| nvidia-tesla-p100        | NVIDIA_TESLA_P100   | any N1 machine of the table (1, 2, 4)      |
| nvidia-l4                | NVIDIA_L4           | g2-standard-4..96 (1, 2, 4, 8)             |
| nvidia-tesla-a100        | NVIDIA_TESLA_A100   | a2-highgpu-1g/2g/4g/8g                     |
| nvidia-a100-80gb         | NVIDIA_A100_80GB    | a2-ultragpu-1g/2g/4g/8g                    |
"""

from __future__ import annotations

from dataclasses import dataclass

from mlcompile.ir import nodes as ir
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


ACCELERATORS: dict[str, Accelerator] = {
    "nvidia-tesla-t4": Accelerator("NVIDIA_TESLA_T4", n1_counts=(1, 2, 4)),
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
}
DEFAULT_GPU_TYPE = "nvidia-tesla-t4"


class NoMachine(ValueError):
    """No machine in the table satisfies the request; the message says what was asked."""


@dataclass(frozen=True)
class MachineSpec:
    """A Vertex MachineSpec: the machine type, and the accelerator type and count (or none)."""

    machine_type: str
    accelerator_type: str = ""
    accelerator_count: int = 0


def accelerator(r: ir.Resources) -> Accelerator:
    gpu_type = r.gpu_type or DEFAULT_GPU_TYPE
    if gpu_type not in ACCELERATORS:
        raise NoMachine(
            f"GPU type {gpu_type!r} is not offered on Vertex AI; use one of "
            + ", ".join(sorted(ACCELERATORS))
        )
    return ACCELERATORS[gpu_type]


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
            f"no {r.gpu_type or DEFAULT_GPU_TYPE} machine has {r.gpu} GPUs, {cpu:g} CPUs, "
            f"{mem:g} GiB"
        )
    for name, vcpu, gib in n1:
        if vcpu >= cpu and gib >= mem:
            return MachineSpec(name)
    raise NoMachine(f"no machine has {cpu:g} CPUs and {mem:g} GiB")
