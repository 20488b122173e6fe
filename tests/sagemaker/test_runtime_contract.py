"""The compiled definition and the runtime adapter agree: a small interpreter resolves each
top-level Processing step's expressions (parameters, properties, property files), stages its
inputs the way SageMaker does, and runs ``python -m mlcompile.runtime sagemaker`` from the
unpacked code bundle. It stands in for the service, which cannot run here."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from mlcompile.runtime.sagemaker import parse
from tests.sagemaker.helpers import compiled

pytestmark = pytest.mark.slow


#: ``python -m mlcompile.runtime`` with pydantic made unimportable.
WITHOUT_PYDANTIC = (
    "import runpy, sys; sys.modules['pydantic'] = None; "
    "runpy.run_module('mlcompile.runtime', run_name='__main__')"
)


class _Service:
    def __init__(self, root: Path, spec: dict[str, Any], files: dict[str, bytes]) -> None:
        self.root = root
        self.params = {p["Name"]: p.get("DefaultValue") for p in spec["Parameters"]}
        self.s3: dict[str, Path] = {}
        self.steps: dict[str, dict[str, Any]] = {}
        for rel, data in files.items():
            if rel.startswith("code/"):
                uri = next(u for u in _strings(spec) if u.startswith("s3://") and u.endswith(rel))
                path = root / "s3" / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                self.s3[uri] = path

    def local(self, path: str) -> str:
        return path.replace("/opt/ml", str(self.root / "opt" / "ml"))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and "Get" in value:
            kind, _, rest = value["Get"].partition(".")
            if kind == "Parameters":
                return self.params[rest]
            if kind == "Execution":
                return "exec-1"
            step, _, prop = rest.partition(".")
            name = prop.split("'")[1]
            outputs = self.steps[step]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
            return self.resolve(
                next(o for o in outputs if o["OutputName"] == name)["S3Output"]["S3Uri"]
            )
        if isinstance(value, dict) and "Std:Join" in value:
            join = value["Std:Join"]
            parts = [self.resolve(v) for v in join["Values"]]
            return join["On"].join(str(p).lower() if isinstance(p, bool) else str(p) for p in parts)
        if isinstance(value, dict) and "Std:JsonGet" in value:
            ref = value["Std:JsonGet"]
            step = ref["PropertyFile"]["Get"].split(".")[1]
            name = ref["PropertyFile"]["Get"].split(".")[3]
            spec = self.steps[step]
            (pf,) = [p for p in spec["PropertyFiles"] if p["PropertyFileName"] == name]
            outputs = spec["Arguments"]["ProcessingOutputConfig"]["Outputs"]
            output = next(o for o in outputs if o["OutputName"] == pf["OutputName"])
            data = json.loads(
                (self.s3[self.resolve(output["S3Output"]["S3Uri"])] / pf["FilePath"]).read_text()
            )
            for key in ref["Path"].split("."):
                data = data[key]
            return data
        return value

    def run(self, step: dict[str, Any], bundle_dir: Path) -> None:
        """Run the step as its job would, with pydantic unavailable: step images need only
        the bundle and the step's own packages."""
        self.steps[step["Name"]] = step
        args = step["Arguments"]
        for item in args.get("ProcessingInputs", []):
            source = self.s3[self.resolve(item["S3Input"]["S3Uri"])]
            target = Path(self.local(item["S3Input"]["LocalPath"]))
            shutil.rmtree(target, ignore_errors=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                target.mkdir(parents=True)
                shutil.copy(source, target / source.name)
        app = args["AppSpecification"]
        argv = [self.local(str(self.resolve(a))) for a in app["ContainerArguments"]]
        parse(argv[1:])  # every option the compiler wrote is one the runtime knows
        result = subprocess.run(
            [sys.executable, "-c", WITHOUT_PYDANTIC, "sagemaker", *argv],
            cwd=bundle_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        for output in args.get("ProcessingOutputConfig", {}).get("Outputs", []):
            uri = self.resolve(output["S3Output"]["S3Uri"])
            path = self.root / "s3" / uri.removeprefix("s3://")
            shutil.copytree(self.local(output["S3Output"]["LocalPath"]), path)
            self.s3[uri] = path


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _run(name: str, tmp_path: Path) -> _Service:
    files = compiled(name)[1]
    spec = json.loads(files["pipeline.json"])
    service = _Service(tmp_path, spec, files)
    bundle_dir = tmp_path / "bundle"
    (bundle,) = [v for k, v in files.items() if k.startswith("code/")]
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        tar.extractall(bundle_dir, filter="data")
    for step in spec["Steps"]:
        if step["Type"] == "Processing":
            service.run(step, bundle_dir)
    return service


def _values(service: _Service, step: str) -> Any:
    return service.resolve(
        {
            "Std:JsonGet": {
                "PropertyFile": {"Get": f"Steps.{step}.PropertyFiles.values"},
                "Path": "output",
            }
        }
    )


def test_minimal_runs_through_the_runtime(tmp_path: Path) -> None:
    service = _run("example-minimal", tmp_path)
    assert _values(service, "produce") == 3
    assert _values(service, "square") == 9


def test_fan_in_of_values_and_artifacts(tmp_path: Path) -> None:
    service = _run("case-literal_fan_in", tmp_path)
    assert [_values(service, f"fit-{i}") for i in range(3)] == [0.1, 0.5, 0.9]
    assert _values(service, "pick") == 0.9
    best = next(p for uri, p in service.s3.items() if uri.endswith("/pick/best"))
    winner = next(p for uri, p in service.s3.items() if uri.endswith("/fit-2/model"))
    # The best model is the 0.9 fit's, byte for byte.
    assert (best / "best").read_bytes() == next(
        f for f in winner.rglob("*") if f.is_file()
    ).read_bytes()


def test_local_modules_ship_in_the_bundle(tmp_path: Path) -> None:
    """The step imports a package of the project; only the bundle can provide it."""
    service = _run("case-local_import", tmp_path)
    assert _values(service, "scaled") == 3.0
