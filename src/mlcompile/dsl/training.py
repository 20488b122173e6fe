"""Training as the platforms know it: the options a training step and a registered model carry.

- ``content_types={"train": "text/csv"}`` (a step option) and ``import_artifact(...,
  content_type=...)`` give an input's media type, which a SageMaker training channel carries
  (``Channel.ContentType``) and built-in algorithms read to parse their data.
- ``register_model(..., inference_instances=[...], transform_instances=[...])``: the instance
  types a model package says it can be served on and batch-transformed on.

Each value is checked here, where the user wrote it; what a platform makes of it is its own.
"""

from __future__ import annotations

import re
from typing import Any

from mlcompile.dsl._ir import ir
from mlcompile.dsl.values import DslUsageError
from mlcompile.errors import DiagnosticSink, SourceLocation

#: A media type as RFC 6838 spells it (``type/subtype``, optional ``;parameters``), no longer
#: than SageMaker's ContentType (256 characters).
_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(;.*)?$"
)
MAX_CONTENT_TYPE = 256
#: What SageMaker instance types look like; the platform checks them against its API's enums.
_INSTANCE = re.compile(r"^ml\.[a-z0-9-]+\.[a-z0-9-]+$")


def valid_content_type(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_CONTENT_TYPE
        and _CONTENT_TYPE.match(value) is not None
    )


def normalize_content_types(
    value: object, sink: DiagnosticSink, loc: SourceLocation, step: str
) -> dict[str, str]:
    """``{input name: media type}``; which names are artifact inputs is checked once the
    step's interface is known (:func:`check_content_type_inputs`)."""
    if not isinstance(value, dict):
        sink.error(
            "MLC207",
            f"step {step!r}: content_types must be a dict of input name to media type",
            loc,
            'write content_types={"train": "text/csv"}',
            step=step,
        )
        return {}
    out: dict[str, str] = {}
    for name, media in value.items():
        if not isinstance(name, str) or not valid_content_type(media):
            sink.error(
                "MLC207",
                f"step {step!r}: content_types[{name!r}] is {media!r}, not a media type",
                loc,
                'give a type/subtype such as "text/csv", "application/x-parquet" or'
                ' "application/x-recordio-protobuf"',
                step=step,
            )
            continue
        out[name] = media
    return dict(sorted(out.items()))


def check_content_type_inputs(
    component: ir.Component,
    options: ir.StepOptions,
    sink: DiagnosticSink,
    loc: SourceLocation,
    step: str,
) -> None:
    """Each name in content_types is one of the step's artifact inputs: a channel is data."""
    artifacts = [p.name for p in component.inputs if ir.is_artifact_type(p.type)]
    for name in options.content_types:
        if name not in artifacts:
            sink.error(
                "MLC207",
                f"step {step!r}: content_types names {name!r}, which is not an artifact input"
                " of the step",
                loc,
                f"name one of its Input[...] parameters: {', '.join(artifacts) or 'none'}",
                step=step,
            )


def check_import_content_type(content_type: object) -> None:
    if content_type is not None and not valid_content_type(content_type):
        raise DslUsageError(
            "MLC117",
            f"import_artifact content_type {content_type!r} is not a media type",
            'give a type/subtype such as "text/csv"',
        )


def instance_list(option: str, value: Any) -> list[str] | None:
    """A literal, non-empty list of SageMaker-style instance types, or None when not given."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise DslUsageError(
            "MLC117",
            f"register_model {option} is {value!r}, not a list of instance types",
            f'give a literal list: {option}=["ml.m5.large"]',
        )
    for item in value:
        if not isinstance(item, str) or not _INSTANCE.match(item):
            raise DslUsageError(
                "MLC117",
                f"register_model {option} holds {item!r}, not an instance type",
                'name instance types as SageMaker does, e.g. "ml.m5.large"',
            )
    return list(dict.fromkeys(value))  # as given (SageMaker keeps the order), once each
