"""The ``kfp`` adapter: KFP's executor-input contract around :func:`invoke`.

KFP (the Kubeflow backend, Vertex AI and kfp's local runner) starts the step with
``--executor_input`` JSON naming each input's value or artifact URI, each output's URI and the
file where the executor output goes. This maps URIs to local paths (object stores are mounted at
``/gcs/``, ``/s3/``, ``/minio/``; the local runner gives paths), calls the step, then writes the
output parameters and every output artifact (with its metadata) to that file: a launcher only
records the artifacts listed there.

``--input-names`` and ``--output-names`` map keys of the step's interface to the function's own
names where the compiler renamed them (a Vertex custom job whose launcher has inputs called
``labels`` or ``project``): the launcher's own value of such a name never reaches the function.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from mlcompile.dsl.artifacts import Artifact, Metrics
from mlcompile.runtime import secrets
from mlcompile.runtime.invoke import ArtifactRef, env_text, invoke, load_function

_MOUNTS = {"gs://": "/gcs/", "s3://": "/s3/", "minio://": "/minio/", "oci://": "/oci/"}


def local_path(uri: str) -> str:
    """Where the object at ``uri`` is on this machine."""
    for scheme, mount in _MOUNTS.items():
        if uri.startswith(scheme):
            return mount + uri[len(scheme) :]
    return uri


def _refs(entry: dict[str, Any]) -> list[ArtifactRef]:
    return [
        ArtifactRef(local_path(a["uri"]), a["uri"], dict(a.get("metadata") or {}))
        for a in entry.get("artifacts", [])
    ]


def _fill(template: list[str | dict[str, str]], values: dict[str, Any]) -> str:
    out = []
    for part in template:
        if isinstance(part, str):
            out.append(part)
        else:
            value = values.pop(part["input"])
            out.append(value if isinstance(value, str) else _text(value))
    return "".join(out)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value) if isinstance(value, (list, dict, bool)) else str(value)


def _artifact_entry(name: str, ref: ArtifactRef, produced: Artifact | None) -> dict[str, Any]:
    metadata = dict(ref.metadata)
    uri = ref.uri
    if produced is not None:
        metadata.update(produced.metadata)
        if isinstance(produced, Metrics):
            # KFP shows a Metrics artifact's numbers from its metadata.
            metadata.update(produced.read())
        if produced.uri and produced.uri != ref.uri:
            uri = produced.uri
    return {"artifacts": [{"name": name, "uri": uri, "metadata": metadata}]}


def _own_names(given: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """``given`` keyed by the function's names: a renamed key takes its own name, in place of
    whatever the interface held under that name."""
    out = {k: v for k, v in given.items() if k not in names.values()}
    for key, name in names.items():
        out.pop(key, None)
        if key in given:
            out[name] = given[key]
    return out


def run(options: argparse.Namespace) -> None:
    executor_input = json.loads(options.executor_input)
    inputs = executor_input.get("inputs", {})
    outputs = executor_input["outputs"]
    input_names: dict[str, str] = json.loads(options.input_names)
    output_names: dict[str, str] = json.loads(options.output_names)
    interface_key = {name: key for key, name in output_names.items()}
    params: dict[str, Any] = _own_names(dict(inputs.get("parameterValues", {})), input_names)
    params.update(json.loads(options.config))
    for name, template in json.loads(options.templates).items():
        params[name] = _fill(template, params)
    for variable, slot in json.loads(options.env_inputs).items():
        # A variable given by a pipeline parameter: KFP's container env is fixed.
        os.environ[variable] = env_text(params.pop(slot))
    refs = json.loads(options.secrets)
    backend = options.secrets_backend
    if backend.startswith('"'):  # compilers pass every option as JSON
        backend = json.loads(backend)
    if refs:
        secrets.export(refs, backend)
    in_artifacts: dict[str, ArtifactRef | list[ArtifactRef]] = _own_names(
        {name: _refs(entry) for name, entry in inputs.get("artifacts", {}).items()}, input_names
    )
    out_refs = _own_names(
        {name: _refs(entry)[0] for name, entry in outputs.get("artifacts", {}).items()},
        output_names,
    )
    source, _, function = options.function.rpartition(":")
    func = load_function(source, function, options.code_root)
    values, produced = invoke(func, params, in_artifacts, out_refs)
    declared = outputs.get("parameters", {})
    # A step's return value is called Output in KFP.
    renamed = {
        ("Output" if k == "output" and "Output" in declared else interface_key.get(k, k)): v
        for k, v in values.items()
    }
    artifacts = {}
    for name, ref in out_refs.items():
        key = interface_key.get(name, name)
        artifacts[key] = _artifact_entry(key, ref, produced.get(name))
    result = {
        "parameterValues": {k: v for k, v in renamed.items() if k in declared},
        "artifacts": artifacts,
    }
    output_file = Path(local_path(outputs["outputFile"]))
    output_file.parent.mkdir(parents=True, exist_ok=True)
    output_file.write_text(json.dumps(result, sort_keys=True), encoding="utf-8")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlcompile.runtime kfp")
    parser.add_argument("--executor_input", required=True)
    parser.add_argument("--function", required=True, help="path.py:name or module:pkg.mod:name")
    parser.add_argument("--code-root", default=".")
    parser.add_argument("--config", default="{}", help="constant parameters, JSON")
    parser.add_argument("--templates", default="{}", help="inputs built from text and values")
    parser.add_argument("--secrets", default="[]", help="secrets the step resolves itself")
    parser.add_argument("--env-inputs", default="{}", help="variable -> input holding it, JSON")
    parser.add_argument("--secrets-backend", default="local")
    parser.add_argument("--input-names", default="{}", help="interface key -> parameter, JSON")
    parser.add_argument("--output-names", default="{}", help="interface key -> output, JSON")
    options = parser.parse_args(argv)
    try:
        run(options)
    except Exception as exc:
        traceback.print_exc()
        print(f"step {options.function} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
