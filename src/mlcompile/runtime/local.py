"""``python -m mlcompile.runtime local SPEC|-``: run one step for the embedded local runner.

SPEC is a JSON file the runner wrote: the step's code, parameters, input and output paths,
environment and secret references. With ``-`` the process first imports the runtime, then reads
the SPEC path from stdin: the runner starts such processes ahead of time so a step does not wait
for imports. Results go to the file SPEC names, written to a temporary name and renamed.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from mlcompile.runtime import secrets
from mlcompile.runtime.invoke import ArtifactRef, invoke, load_function


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mlcompile.runtime local SPEC.json|-", file=sys.stderr)
        return 2
    spec_path = sys.stdin.readline().strip() if argv[0] == "-" else argv[0]
    if not spec_path:
        return 0  # a process started ahead of time that the runner no longer needs
    spec: dict[str, Any] = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    result = Path(spec["result"])
    try:
        os.environ.update(spec.get("env", {}))
        secrets.export(spec.get("secrets", []), "local")
        data = _run(spec)
    except Exception as exc:
        traceback.print_exc()
        _write(result, {"error": f"{type(exc).__name__}: {exc}"})
        return 1
    _write(result, data)
    return 0


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    outputs = {name: ArtifactRef(**ref) for name, ref in spec["outputs"].items()}
    if spec["kind"] == "batch_predict":
        from mlcompile.runtime.predict import batch

        rows = batch(
            Path(spec["inputs"]["model"]["path"]),
            Path(spec["inputs"]["data"]["path"]),
            Path(outputs["predictions"].path),
            spec["config"]["content_type"],
        )
        return {"parameters": {}, "artifacts": {"predictions": {"rows": rows}}}
    inputs: dict[str, ArtifactRef | list[ArtifactRef]] = {
        name: [ArtifactRef(**r) for r in ref] if isinstance(ref, list) else ArtifactRef(**ref)
        for name, ref in spec["inputs"].items()
    }
    func = load_function(spec["code_file"], spec["function"], spec["root"])
    params, produced = invoke(func, spec["params"], inputs, outputs)
    try:
        json.dumps(params)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"its return value cannot be passed to other steps: {exc}") from None
    return {
        "parameters": params,
        "artifacts": {name: artifact.metadata for name, artifact in produced.items()},
    }


def _write(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(json.dumps(data, default=str), encoding="utf-8")
    os.replace(temporary, path)
