"""Which SageMaker instance types have local NVMe storage (AWS "Instance Store Volumes").

The hardware encrypts those volumes, and SageMaker rejects a volume KMS key for them. Both the
compiler (a literal instance type) and the deploy step (a type chosen when the run starts) ask.
"""

from __future__ import annotations

import re

#: Families whose instance store is NVMe without a "d" in the name.
_NVME_FAMILIES = frozenset({"g5", "g6", "g6e", "p5", "p5e", "p5en", "trn1", "trn1n", "trn2"})


def has_instance_storage(instance: str) -> bool:
    """Whether ``instance`` (``ml.<family>.<size>``) has local NVMe storage, which the hardware
    encrypts: SageMaker rejects a volume KMS key for those (``ml.g4dn``, ``ml.m5d``, ``ml.g5``)."""
    parts = instance.split(".")
    family = parts[1] if len(parts) == 3 else ""
    generation = re.match(r"[a-z]+\d+([a-z-]*)$", family)
    return family in _NVME_FAMILIES or bool(generation and "d" in generation.group(1))
