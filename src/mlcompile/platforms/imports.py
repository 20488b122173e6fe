"""Which URIs a platform can import an artifact from, checked when a pipeline is compiled.

Each platform's runtime reads its own storage only: SageMaker's job inputs take ``s3://``,
Vertex's launcher ``gs://``, KFP's launcher ``s3://``, ``gs://`` and ``minio://``. A local path
exists only on the machine that compiles, so no platform can import it. A literal URI is
checked here; a parameter's default only warns, since a run may be started with another value.
"""

from __future__ import annotations

import re

from mlcompile.errors import Diagnostic, Severity
from mlcompile.ir import nodes as ir
from mlcompile.ir.walk import graphs, scoped_tasks

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def import_rules(
    platform: str, pipeline: ir.Pipeline, schemes: tuple[str, ...]
) -> list[Diagnostic]:
    """A diagnostic for each ``import_artifact`` whose URI ``platform`` cannot read."""
    out: list[Diagnostic] = []
    for graph in graphs(pipeline):
        for scoped in scoped_tasks(graph):
            task = scoped.task
            builtin = graph.components[task.component].builtin
            if builtin is None or builtin.op != "import_artifact":
                continue
            uri = task.inputs.get("uri")
            text: str | None = None
            severity: Severity = "error"
            what = "URI"
            if isinstance(uri, ir.Literal) and isinstance(uri.value, str):
                text = uri.value
            elif isinstance(uri, ir.ParamRef) and graph is pipeline:
                port = pipeline.parameter(uri.name)
                if port is not None and isinstance(port.default, str) and port.default:
                    text, severity = port.default, "warning"
                    what = f"default of parameter {uri.name!r}"
            if text is None or _scheme(text) in schemes:
                continue
            out.append(
                Diagnostic(
                    "MLC401",
                    f"{platform} cannot import {text!r} ({what} of step {task.name!r}):"
                    f" it reads {', '.join(s + '://' for s in schemes)} only",
                    task.location.source(),
                    f"upload the data to {schemes[0]}:// and import that URI"
                    + (", or pass one when the run starts" if severity == "warning" else ""),
                    severity=severity,
                    platform=platform,
                    step=task.name,
                )
            )
    return out


def _scheme(uri: str) -> str:
    found = _SCHEME.match(uri)
    return found.group(1).lower() if found else ""
