"""The GPU catalogue: every spelling of a GPU model a platform uses, mapped to one canonical type
and to what each platform calls or runs it on.

A step asks for ``Resources(gpu=1, gpu_type=...)`` in any platform's spelling: Vertex AI's
accelerator enum (``NVIDIA_TESLA_A100``), GKE's node label (``nvidia-tesla-a100``), the model
(``A100``, ``nvidia-a100``, ``a100-40gb``). Spellings are compared without case, with ``_`` and
spaces read as ``-``, and without a leading ``nvidia-`` and ``tesla-``, so ``NVIDIA_TESLA_T4``,
``nvidia-tesla-t4`` and ``T4`` are one type. The canonical name is GKE's accelerator label (or, for
a GPU Google Cloud does not offer, the same pattern), which Kubeflow puts in the node selector.

Per platform, the catalogue holds only the mapping; the machines and instances with their sizes
stay with each platform (:mod:`mlcompile.platforms.vertex.machines`,
:mod:`mlcompile.platforms.sagemaker.instances`).

| canonical           | model             | Vertex AI accelerator   | SageMaker instance families |
|---------------------|-------------------|-------------------------|-----------------------------|
| nvidia-tesla-t4     | NVIDIA T4         | NVIDIA_TESLA_T4         | g4dn                        |
| nvidia-tesla-p4     | NVIDIA P4         | NVIDIA_TESLA_P4         | (none)                      |
| nvidia-tesla-p100   | NVIDIA P100       | NVIDIA_TESLA_P100       | (none)                      |
| nvidia-tesla-v100   | NVIDIA V100       | NVIDIA_TESLA_V100       | p3, p3dn                    |
| nvidia-l4           | NVIDIA L4         | NVIDIA_L4               | g6                          |
| nvidia-a10g         | NVIDIA A10G       | (none)                  | g5                          |
| nvidia-l40s         | NVIDIA L40S       | (none)                  | g6e                         |
| nvidia-tesla-a100   | NVIDIA A100 40GB  | NVIDIA_TESLA_A100       | p4d                         |
| nvidia-a100-80gb    | NVIDIA A100 80GB  | NVIDIA_A100_80GB        | p4de                        |
| nvidia-h100-80gb    | NVIDIA H100 80GB  | NVIDIA_H100_80GB        | p5                          |
| nvidia-h100-mega-80gb | NVIDIA H100 80GB (A3 Mega) | NVIDIA_H100_MEGA_80GB | (none)            |
| nvidia-h200-141gb   | NVIDIA H200       | NVIDIA_H200_141GB       | p5e, p5en                   |
| nvidia-b200         | NVIDIA B200       | NVIDIA_B200             | p6-b200                     |
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The GPU a step that gives a count but no type gets.
DEFAULT = "nvidia-tesla-t4"


@dataclass(frozen=True)
class Gpu:
    """One GPU model: its canonical name, the model, other spellings, and each platform's own."""

    name: str
    model: str
    #: Spellings beyond the canonical name and the Vertex enum (which are always accepted).
    aliases: tuple[str, ...] = ()
    #: Vertex AI's AcceleratorType, or None when Vertex offers no machine with this GPU.
    vertex: str | None = None
    #: SageMaker instance families (``ml.<family>.<size>``) whose GPUs are this model.
    sagemaker: tuple[str, ...] = ()


GPUS: tuple[Gpu, ...] = (
    Gpu("nvidia-tesla-t4", "NVIDIA T4", vertex="NVIDIA_TESLA_T4", sagemaker=("g4dn",)),
    Gpu("nvidia-tesla-p4", "NVIDIA P4", vertex="NVIDIA_TESLA_P4"),
    Gpu("nvidia-tesla-p100", "NVIDIA P100", ("p100-16gb",), vertex="NVIDIA_TESLA_P100"),
    Gpu(
        "nvidia-tesla-v100",
        "NVIDIA V100",
        ("v100-16gb", "v100-32gb"),
        vertex="NVIDIA_TESLA_V100",
        sagemaker=("p3", "p3dn"),
    ),
    Gpu("nvidia-l4", "NVIDIA L4", ("l4-24gb",), vertex="NVIDIA_L4", sagemaker=("g6",)),
    Gpu("nvidia-a10g", "NVIDIA A10G", ("a10g-24gb",), sagemaker=("g5",)),
    Gpu("nvidia-l40s", "NVIDIA L40S", ("l40s-48gb",), sagemaker=("g6e",)),
    Gpu(
        "nvidia-tesla-a100",
        "NVIDIA A100 40GB",
        ("a100", "a100-40gb"),
        vertex="NVIDIA_TESLA_A100",
        sagemaker=("p4d",),
    ),
    Gpu(
        "nvidia-a100-80gb",
        "NVIDIA A100 80GB",
        ("a100-80g",),
        vertex="NVIDIA_A100_80GB",
        sagemaker=("p4de",),
    ),
    Gpu(
        "nvidia-h100-80gb",
        "NVIDIA H100 80GB",
        ("h100", "h100-80g"),
        vertex="NVIDIA_H100_80GB",
        sagemaker=("p5",),
    ),
    Gpu(
        "nvidia-h100-mega-80gb",
        "NVIDIA H100 80GB on A3 Mega machines",
        ("h100-mega",),
        vertex="NVIDIA_H100_MEGA_80GB",
    ),
    Gpu(
        "nvidia-h200-141gb",
        "NVIDIA H200 141GB",
        ("h200", "h200-141g"),
        vertex="NVIDIA_H200_141GB",
        sagemaker=("p5e", "p5en"),
    ),
    Gpu(
        "nvidia-b200",
        "NVIDIA B200",
        ("b200-180gb",),
        vertex="NVIDIA_B200",
        sagemaker=("p6-b200",),
    ),
)


def spelling_key(text: str) -> str:
    """What two spellings of one GPU have in common: lowercase, ``-`` for ``_`` and spaces,
    without a leading ``nvidia-`` and ``tesla-``."""
    key = re.sub(r"[\s_]+", "-", text.strip().lower())
    for prefix in ("nvidia-", "tesla-"):
        key = key.removeprefix(prefix)
    return key


def _index() -> dict[str, Gpu]:
    found: dict[str, Gpu] = {}
    for gpu in GPUS:
        for spelling in (gpu.name, gpu.vertex or gpu.name, *gpu.aliases):
            key = spelling_key(spelling)
            if found.setdefault(key, gpu) is not gpu:
                raise AssertionError(f"GPU spelling {spelling!r} names two GPUs")
    return found


_BY_SPELLING = _index()


def lookup(gpu_type: str | None) -> Gpu | None:
    """The GPU a step's ``gpu_type`` names (the default when it names none), or None when the
    catalogue has no such spelling."""
    return _BY_SPELLING.get(spelling_key(gpu_type or DEFAULT))


def canonical(gpu_type: str | None) -> str | None:
    """The canonical name of ``gpu_type``, or None when the catalogue does not know it."""
    gpu = lookup(gpu_type)
    return gpu.name if gpu is not None else None


def describe(gpus: list[Gpu] | tuple[Gpu, ...]) -> str:
    """``nvidia-tesla-t4 (NVIDIA T4), ...`` for a message listing what exists."""
    return ", ".join(f"{g.name} ({g.model})" for g in gpus)


def unknown(gpu_type: str) -> str:
    """The message for a spelling the catalogue does not have."""
    from mlcompile.errors import did_you_mean

    return f"GPU type {gpu_type!r} is not one mlcompile knows." + did_you_mean(
        gpu_type, [g.name for g in GPUS]
    )
