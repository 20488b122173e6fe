"""A container step's command in KFP placeholders, and resource quantities in Kubernetes form.

Both mean the same on every backend that runs KFP IR, so platforms share them: a container
step's input values, input paths and output paths become ``{{$.inputs...}}`` and
``{{$.outputs...}}`` placeholders the launcher substitutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlcompile.ir import nodes as ir
from mlcompile.platforms.kfp_spec.hooks import IMAGE_SLOT, Step

_PLACEHOLDERS = {
    "input_value": "{{{{$.inputs.parameters['{}']}}}}",
    "input_path": "{{{{$.inputs.artifacts['{}'].path}}}}",
}


def container_command(
    step: Step,
    input_keys: Mapping[str, str] | None = None,
    output_keys: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The PipelineContainerSpec (image, command, args) of a container step; ``input_keys`` and
    ``output_keys`` give the interface keys of ports the platform renamed (port name -> key)."""
    inputs, outputs = input_keys or {}, output_keys or {}
    spec = step.component.container
    assert spec is not None
    ports = {p.name: p for p in step.component.outputs}

    def text(parts: tuple[str | ir.Placeholder, ...]) -> str:
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            elif part.kind == "output_path":
                port = ports[part.name]
                kind = "artifacts" if ir.is_artifact_type(port.type) else "parameters"
                suffix = "path" if kind == "artifacts" else "output_file"
                key = outputs.get(part.name, part.name)
                out.append(f"{{{{$.outputs.{kind}['{key}'].{suffix}}}}}")
            else:
                out.append(_PLACEHOLDERS[part.kind].format(inputs.get(part.name, part.name)))
        return "".join(out)

    image = step.task.options.image
    if isinstance(image, ir.ParamRef):  # resolved by the backend when the task starts
        image = _PLACEHOLDERS["input_value"].format(IMAGE_SLOT)
    container: dict[str, Any] = {"image": image or spec.image}
    if spec.command:
        container["command"] = [text(parts) for parts in spec.command]
    if spec.args:
        container["args"] = [text(parts) for parts in spec.args]
    return container


def quantities(r: ir.Resources) -> dict[str, str]:
    """Kubernetes quantities: cores as "2" or "500m", bytes in the largest exact binary unit."""
    out = {}
    if r.cpu:
        out["cpu"] = str(int(r.cpu)) if float(r.cpu).is_integer() else f"{round(r.cpu * 1000)}m"
    if r.memory_bytes:
        for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if r.memory_bytes % size == 0:
                out["memory"] = f"{r.memory_bytes // size}{unit}"
                break
        else:
            out["memory"] = str(r.memory_bytes)
    return out
