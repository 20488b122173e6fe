"""IR types and values in KFP's pipeline-spec vocabulary, written in the spec's canonical JSON form.

The spec is written as plain dicts, already in the form protobuf's ``MessageToDict`` gives, so
compiling needs neither kfp nor protobuf: numbers inside ``google.protobuf.Value`` are doubles
(``5`` is written ``5.0``) and int64 fields are strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlcompile.ir import nodes as ir

PARAMETER_TYPES: dict[str, str] = {
    "int": "NUMBER_INTEGER",
    "float": "NUMBER_DOUBLE",
    "str": "STRING",
    "bool": "BOOLEAN",
    "list": "LIST",
    "dict": "STRUCT",
    # A loop item whose type is known only at run time travels as JSON text.
    "any": "STRING",
    # The final step's status input: KFP's PipelineTaskFinalStatus.
    "RunStatus": "TASK_FINAL_STATUS",
}

#: RegisteredModel is a Model whose metadata names its registry entry; a platform whose registry
#: has its own artifact type (Vertex's google.VertexModel) passes its own table to the lowering.
SCHEMA_TITLES: Mapping[str, str] = {
    "Dataset": "system.Dataset",
    "Model": "system.Model",
    "RegisteredModel": "system.Model",
    "Metrics": "system.Metrics",
    "Artifact": "system.Artifact",
}


def output_key(name: str) -> str:
    """KFP's name for an output: a step's return value is ``Output`` there, as kfp's tools
    (and its local runner, which parses channel names) expect."""
    return "Output" if name == "output" else name


def kebab(name: str) -> str:
    """A task or component key as kfp writes it: lowercase words joined by single hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "step"


def type_spec(type_name: str, titles: Mapping[str, str] = SCHEMA_TITLES) -> dict[str, Any]:
    """The inputDefinitions/outputDefinitions entry for an IR type (without default)."""
    if ir.is_artifact_type(type_name):
        spec: dict[str, Any] = {
            "artifactType": {
                "schemaTitle": titles[ir.element_type(type_name)],
                "schemaVersion": "0.0.1",
            }
        }
        if ir.is_list_of(type_name):
            spec["isArtifactList"] = True
        return spec
    return {"parameterType": PARAMETER_TYPES[type_name]}


def port_spec(port: ir.Port, titles: Mapping[str, str] = SCHEMA_TITLES) -> dict[str, Any]:
    spec = type_spec(port.type, titles)
    if port.has_default:
        spec["isOptional"] = True
        if port.default is not None:
            spec["defaultValue"] = pb_value(port.default)
    return spec


def pb_value(value: Any) -> Any:
    """A JSON value as a protobuf ``Value`` prints it: every number a float."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return {str(k): pb_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [pb_value(v) for v in value]
    raise TypeError(f"not a JSON value: {value!r}")


def as_list_type(spec: dict[str, Any]) -> dict[str, Any]:
    """The type of a value collected over loop iterations."""
    if "artifactType" in spec:
        return {"artifactType": spec["artifactType"], "isArtifactList": True}
    return {"parameterType": "LIST"}


def is_artifact_spec(spec: dict[str, Any]) -> bool:
    return "artifactType" in spec
