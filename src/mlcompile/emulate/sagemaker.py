"""An interpreter of the SageMaker pipeline definition (format 2020-12-01), run on this machine.

Semantics, from the definition's reference
(https://docs.aws.amazon.com/sagemaker/latest/dg/build-and-manage-steps.html and
https://aws-sagemaker-mlops.readthedocs-hosted.com/en/latest/workflows/pipelines/sagemaker.workflow.pipelines.html):

- A step runs once every step it names in ``DependsOn`` or reads a property of has succeeded;
  steps inside a ``Condition``'s ``IfSteps``/``ElseSteps`` run only on the branch taken, the
  others are skipped. A failed step stops everything that depends on it.
- ``Get`` reads ``Parameters.<name>`` (typed: Integer, Float, String, Boolean), ``Execution.*``
  variables, and step properties (``ProcessingOutputConfig.Outputs['x'].S3Output.S3Uri``,
  ``ModelArtifacts.S3ModelArtifacts``, ``ModelName``, ``ModelPackageArn``, ``PropertyFiles``);
  a property of a step that does not exist or does not have it fails the reading step.
- ``Std:Join`` joins values as text; ``Std:JsonGet`` reads a JSON path from a property file (a
  file in one of the step's processing outputs) and fails when the path is absent.
- Conditions compare typed values; comparing a String with a number fails the step
  (SageMaker refuses it: the condition's operands must be of one primitive type).
- A processing or training job is a local process that sees SageMaker's container contract,
  with the ``/opt/ml`` prefix of every path in its arguments and environment mapped onto a
  per-job folder: ``/opt/ml/processing/<input|output>`` (processing,
  https://docs.aws.amazon.com/sagemaker/latest/dg/build-your-own-processing-container.html),
  ``/opt/ml/input/data/<channel>``, ``/opt/ml/input/config/hyperparameters.json`` (the job's
  HyperParameters) and ``inputdataconfig.json`` (each channel's ContentType), ``/opt/ml/model``
  (uploaded as ``model.tar.gz``) and ``/opt/ml/output`` (training,
  https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-running-container.html).
  A training job with no ContainerEntrypoint runs its image's own, for which
  ``MLCOMPILE_LOCAL_ENTRYPOINTS`` names a local stand-in (:mod:`.entrypoints`).
- S3 is a moto server on 127.0.0.1 started and stopped by the run; the build's code bundles are
  uploaded where the definition expects them, as ``deploy`` does, and the store's stand-in
  for cloud buckets (``<store>/buckets/<bucket>/<key>``) with them, for data the pipeline imports.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import sys
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcompile.emulate import sagemaker_cache as cache
from mlcompile.emulate.containers import Container, ImageUnavailable, Mount
from mlcompile.emulate.entrypoints import NoStandIn, stand_in
from mlcompile.emulate.session import Cancelled, EmulationError, Session
from mlcompile.ir.canonical import content_hash
from mlcompile.local import registry
from mlcompile.local.values import ArtifactValue
from mlcompile.runtime import frameworks, predict

_OUTPUT = re.compile(r"^ProcessingOutputConfig\.Outputs\['([^']+)'\]\.S3Output\.S3Uri$")
_COMPARE = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


@dataclass
class _Step:
    spec: dict[str, Any]
    branch_of: tuple[str, str] | None = None  # (condition step, "if" | "else")
    status: str = "pending"
    properties: dict[str, Any] = field(default_factory=dict)
    property_files: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)  # output name -> S3 URI
    message: str = ""
    branch: str | None = None

    @property
    def name(self) -> str:
        return str(self.spec["Name"])


class SageMakerRun:
    def __init__(
        self,
        session: Session,
        definition: dict[str, Any],
        params: dict[str, Any],
        build_dir: Path,
        *,
        backoff_scale: float = 1.0,
    ) -> None:
        self.session = session
        self.definition = definition
        self.build_dir = build_dir
        self.backoff_scale = backoff_scale
        self.params = self._parameters(params)
        self.steps: dict[str, _Step] = {}
        self._collect(definition.get("Steps", []), None)
        self.execution_id = session.run_id
        self._models_lock = threading.Lock()
        self.endpoint_url = ""
        # The S3 objects the step running on this thread writes, while it may be cached.
        self._journal = threading.local()

    def _parameters(self, given: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for p in self.definition.get("Parameters", []):
            value = given.get(p["Name"], p.get("DefaultValue"))
            kind = p.get("Type", "String")
            if kind == "Integer" and value is not None:
                value = int(value)
            elif kind == "Float" and value is not None:
                value = float(value)
            elif kind == "Boolean" and value is not None:
                value = bool(value)
            elif value is not None:
                value = str(value)
            values[p["Name"]] = (kind, value)
        return values

    def _collect(self, steps: list[dict[str, Any]], branch: tuple[str, str] | None) -> None:
        for spec in steps:
            self.steps[spec["Name"]] = _Step(spec, branch)
            if spec["Type"] == "Condition":
                args = spec.get("Arguments", {})
                self._collect(args.get("IfSteps", []), (spec["Name"], "if"))
                self._collect(args.get("ElseSteps", []), (spec["Name"], "else"))

    # ----- the walk ----------------------------------------------------------------------------

    def walk(self) -> dict[str, Any]:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            import boto3

            self.endpoint_url = f"http://{host}:{port}"
            self.s3 = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
            self._upload_bundles()
            self._upload_buckets()
            self._run_all()
            return {"outputs": self._pipeline_outputs()}
        finally:
            server.stop()

    def _run_all(self) -> None:
        lock = threading.Condition()

        def run_one(step: _Step) -> None:
            try:
                self._step(step)
            except Cancelled:
                step.status = "interrupted"
            except EmulationError as exc:
                step.status, step.message = "failed", str(exc)
                self._record(step, "failed", str(exc))
            except Exception as exc:
                step.status, step.message = "failed", f"internal error: {type(exc).__name__}: {exc}"
                self._record(step, "failed", step.message)
            with lock:
                lock.notify_all()

        with lock:
            while not self.session.cancel.is_set():
                for step in self.steps.values():
                    if step.status != "pending":
                        continue
                    deps = self._depends(step)
                    states = [self.steps[d].status for d in deps if d in self.steps]
                    missing = [d for d in deps if d not in self.steps]
                    if missing:
                        step.status = "failed"
                        step.message = f"step {step.name!r} refers to step {missing[0]!r}, which the definition does not have"
                        self._record(step, "failed", step.message)
                        continue
                    if any(s in ("pending", "running") for s in states):
                        continue
                    if step.branch_of is not None:
                        cond = self.steps[step.branch_of[0]]
                        if cond.status in ("pending", "running"):
                            continue
                        if cond.status == "skipped":  # a condition in a branch not taken
                            self._unrun(step, "skipped", f"{cond.name} was skipped")
                            continue
                        if cond.status != "done":
                            self._unrun(step, "upstream_failed", f"{cond.name} did not succeed")
                            continue
                        if cond.branch != step.branch_of[1]:
                            self._unrun(
                                step, "skipped", f"condition {cond.name} took the other branch"
                            )
                            continue
                    bad = [d for d in deps if self.steps[d].status != "done"]
                    if bad:
                        status = (
                            "skipped"
                            if all(self.steps[d].status == "skipped" for d in bad)
                            else "upstream_failed"
                        )
                        self._unrun(step, status, f"{bad[0]} did not succeed")
                        continue
                    step.status = "running"
                    threading.Thread(target=run_one, args=(step,), daemon=True).start()
                if all(s.status not in ("pending", "running") for s in self.steps.values()):
                    break
                lock.wait(timeout=0.5)
        if self.session.cancel.is_set():
            raise Cancelled

    def _depends(self, step: _Step) -> list[str]:
        names = list(step.spec.get("DependsOn", []))
        args = step.spec.get("Arguments", {})
        if step.spec["Type"] == "Condition":  # its branches' steps wait for it, not it for them
            args = args.get("Conditions", [])
        for ref in _gets(args):
            if ref.startswith("Steps."):
                name = ref.split(".")[1]
                if name not in names:
                    names.append(name)
        if step.branch_of is not None:
            names = [n for n in names if n != step.branch_of[0]]
        return names

    def _unrun(self, step: _Step, status: str, reason: str) -> None:
        step.status, step.message = status, reason
        self._record(step, status, reason)

    def _record(self, step: _Step, status: str, reason: str) -> None:
        session = self.session
        sid = step.properties.pop("_sid", None)
        if sid is not None:  # a job that started: close its record
            attempts = int(step.properties.pop("_attempts", 1))
            session.call(
                lambda: session.finish_step(
                    sid, step.name, status, attempts=attempts, message=reason
                )
            )
            return
        session.call(lambda: session.unrun(step.name, step.name, step.spec["Type"], status, reason))

    # ----- values ------------------------------------------------------------------------------

    def value(self, step: str, expr: Any) -> Any:
        """A definition value as the service resolves it for ``step``."""
        if isinstance(expr, dict):
            if "Get" in expr:
                return self._get(step, str(expr["Get"]))
            if "Std:Join" in expr:
                join = expr["Std:Join"]
                return str(join.get("On", "")).join(
                    _text(self.value(step, v)) for v in join["Values"]
                )
            if "Std:JsonGet" in expr:
                return self._json_get(step, expr["Std:JsonGet"])
            return {k: self.value(step, v) for k, v in expr.items()}
        if isinstance(expr, list):
            return [self.value(step, v) for v in expr]
        return expr

    def _typed_value(self, step: str, expr: Any) -> tuple[str, Any]:
        if isinstance(expr, dict) and "Get" in expr and str(expr["Get"]).startswith("Parameters."):
            name = str(expr["Get"]).split(".", 1)[1]
            if name not in self.params:
                raise EmulationError(
                    f"step {step!r} reads parameter {name!r}, which is not declared"
                )
            kind, given = self.params[name]
            return str(kind), given
        value = self.value(step, expr)
        if isinstance(expr, dict) and "Std:JsonGet" in expr:
            return ("Json", value)
        return (_kind(value), value)

    def _get(self, step: str, ref: str) -> Any:
        head, _, rest = ref.partition(".")
        if head == "Parameters":
            if rest not in self.params:
                raise EmulationError(
                    f"step {step!r} reads parameter {rest!r}, which is not declared"
                )
            return self.params[rest][1]
        if head == "Execution":
            variables = {
                "PipelineExecutionId": self.execution_id,
                "PipelineExecutionArn": f"arn:aws:sagemaker:local:000000000000:pipeline/local/execution/{self.execution_id}",
                "StartDateTime": "",
                "CurrentDateTime": "",
                "PipelineName": str(
                    self.definition.get("Metadata", {}).get("mlcompile-pipeline", "")
                ),
            }
            if rest not in variables:
                raise EmulationError(
                    f"step {step!r} reads execution variable {rest!r}, which does not exist"
                )
            return variables[rest]
        if head != "Steps":
            raise EmulationError(f"step {step!r}: cannot resolve Get {ref!r}")
        name, _, prop = rest.partition(".")
        source = self.steps.get(name)
        if source is None:
            raise EmulationError(f"step {step!r} reads {ref!r}: there is no step {name!r}")
        if prop.startswith("PropertyFiles."):
            file = prop.split(".", 1)[1]
            if file not in source.property_files:
                raise EmulationError(
                    f"step {step!r} reads {ref!r}: step {name!r} declares no property file {file!r}"
                )
            return source.property_files[file]
        if prop not in source.properties:
            known = ", ".join(sorted(p for p in source.properties if p[0] != "_")) or "none"
            raise EmulationError(
                f"step {step!r} reads {ref!r}: step {name!r} ({source.spec['Type']}) has no such"
                f" property (it has: {known})"
            )
        return source.properties[prop]

    def _json_get(self, step: str, spec: dict[str, Any]) -> Any:
        file = self.value(step, spec["PropertyFile"])
        path = str(spec["Path"])
        if not isinstance(file, dict):
            raise EmulationError(f"step {step!r}: JsonGet reads no property file")
        data = self._read_json(file["uri"])
        value: Any = data
        for part in re.findall(r"[^.\[\]]+", path):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                raise EmulationError(
                    f"step {step!r}: JsonGet path {path!r} is absent from property file"
                    f" {file['name']!r} of step {file['step']!r} (it holds: {sorted(data) if isinstance(data, dict) else data})"
                )
        return value

    # ----- steps ---------------------------------------------------------------------------

    def _step(self, step: _Step) -> None:
        kind = step.spec["Type"]
        handler = {
            "Processing": self._processing,
            "Training": self._training,
            "Condition": self._condition,
            "Fail": self._fail,
            "Model": self._model,
            "CreateModel": self._model,
            "RegisterModel": self._register,
            "Transform": self._transform,
        }.get(kind)
        if handler is None:
            raise EmulationError(
                f"step {step.name!r} has type {kind!r}, which this emulator does not run"
            )
        config = step.spec.get("CacheConfig") or {}
        key = None
        if config.get("Enabled"):
            key = cache.cache_key(kind, self.value(step.name, step.spec.get("Arguments", {})))
        if key is None:
            handler(step)
            return
        if self._reuse(step, key, config.get("ExpireAfter")):
            return
        self._journal.writes = {}
        step.properties["_cache_key"] = key
        try:
            handler(step)
        finally:
            self._journal.writes = None

    def _reuse(self, step: _Step, key: str, expire_after: str | None) -> bool:
        """A cache hit: the earlier run's properties, its objects put back into S3."""
        session = self.session
        try:
            seconds = cache.expire_after_seconds(expire_after)
        except ValueError as exc:
            raise EmulationError(f"step {step.name!r}: {exc}") from None
        entry = cache.read_entry(session.store.root, key)
        hit = session.call(lambda: session.cached(key)) if entry is not None else None
        if entry is None or hit is None or not entry.fresh(seconds):
            return False
        if not all(session.store.has(sha) for sha in entry.writes.values()):
            return False  # the store was pruned since
        for uri, sha in sorted(entry.writes.items()):
            self._put(uri, session.store.path_of(sha).read_bytes())
        step.properties.update(entry.properties)
        step.property_files.update(entry.property_files)
        step.outputs.update(entry.outputs)
        sid = self._start(step, key)
        session.call(lambda: session.finish_cached(sid, step.name, hit))
        step.status = "done"
        return True

    def _condition(self, step: _Step) -> None:
        holds = True
        for cond in step.spec["Arguments"].get("Conditions", []):
            holds = holds and self._holds(step.name, cond)
        step.branch = "if" if holds else "else"
        step.status = "done"
        session = self.session
        sid = session.call(
            lambda: session.start_step(
                step.name, step.name, "Condition", "condition", "", {}, {}, None
            )
        )
        session.call(
            lambda: session.finish_step(
                sid,
                step.name,
                "done",
                attempts=1,
                message=f"condition was {'true' if holds else 'false'}",
            )
        )

    def _holds(self, step: str, cond: dict[str, Any]) -> bool:
        kind = cond["Type"]
        if kind == "Not":
            # The SDK's ConditionNot wrote "Expression" (2.x) and writes "Condition" (3.x).
            return not self._holds(step, cond.get("Condition") or cond["Expression"])
        if kind == "Or":
            return any(self._holds(step, c) for c in cond["Conditions"])
        if kind == "In":
            left = self.value(step, cond["QueryValue"])
            return left in [self.value(step, v) for v in cond["Values"]]
        lt, left = self._typed_value(step, cond["LeftValue"])
        rt, right = self._typed_value(step, cond["RightValue"])
        types = {_family(lt, left), _family(rt, right)}
        if len(types) > 1:
            raise EmulationError(
                f"step {step!r}: condition {kind} compares {lt} {json.dumps(left)} with"
                f" {rt} {json.dumps(right)}; both sides must be of one type"
            )
        return bool(_COMPARE[kind](left, right))

    def _fail(self, step: _Step) -> None:
        message = _text(self.value(step.name, step.spec["Arguments"].get("ErrorMessage", "")))
        session = self.session
        sid = session.call(
            lambda: session.start_step(step.name, step.name, "Fail", "fail", "", {}, {}, None)
        )
        step.status, step.message = "failed", message
        session.call(
            lambda: session.finish_step(sid, step.name, "failed", attempts=1, message=message)
        )

    def _model(self, step: _Step) -> None:
        args = self.value(step.name, step.spec["Arguments"])
        step.properties["ModelName"] = f"{step.name}-{self.execution_id}"
        container = dict(args.get("PrimaryContainer", {}))
        package = container.get("ModelPackageName")
        if package:
            # A model of a package serves the package's own container and model data.
            registered = next(
                (s for s in self.steps.values() if s.properties.get("ModelPackageArn") == package),
                None,
            )
            if registered is None:
                raise EmulationError(
                    f"step {step.name!r} makes a model of package {package!r}, which no step registered"
                )
            container = registered.properties["_container"]
        step.properties["_container"] = container
        for key in _MODEL_DATA:
            if _dig(container, key):
                step.properties[f"PrimaryContainer.{key}"] = _dig(container, key)
        self._record_done(step, {}, "model " + step.properties["ModelName"])

    def _model_file(self, step: str, container: dict[str, Any]) -> Path:
        """The model file a container definition serves: an archive (``ModelDataUrl``) or an
        uncompressed S3 prefix (``ModelDataSource``)."""
        if container.get("ModelDataUrl"):
            return self._download_model(str(container["ModelDataUrl"]))
        source = _dig(container, "ModelDataSource.S3DataSource.S3Uri")
        if source:
            with self._models_lock:
                folder = self.session.scratch("_models") / content_hash(str(source))[:16]
                if not folder.exists():
                    self._download(str(source), folder / "model", prefix=True)
                return self._pick_model(folder / "model", str(source))
        raise EmulationError(f"step {step!r}: the model container names no model data")

    def _register(self, step: _Step) -> None:
        args = self.value(step.name, step.spec["Arguments"])
        group = str(args.get("ModelPackageGroupName", "model"))
        container = (args.get("InferenceSpecification", {}).get("Containers") or [{}])[0]
        model_file = self._model_file(step.name, container)
        # The step's properties are DescribeModelPackage's response: the container it was given.
        step.properties["_container"] = container
        for key in _MODEL_DATA:
            if _dig(container, key):
                step.properties[f"InferenceSpecification.Containers[0].{key}"] = _dig(
                    container, key
                )
        session = self.session
        _, record = frameworks.find(model_file)
        # ingest moves what it stores; a Transform may need the model too. A saved model is
        # its folder (the file and its record), a bare pickle the file.
        if (model_file.parent / frameworks.RECORD).is_file():
            copy = session.scratch(step.name) / "model"
            shutil.copytree(model_file.parent, copy)
        else:
            copy = session.scratch(step.name) / model_file.name
            shutil.copyfile(model_file, copy)
        sha, _ = session.store.ingest(copy)
        approval = str(args.get("ModelApprovalStatus", "PendingManualApproval"))
        framework = str(record["framework"])
        version, _ = session.call(
            lambda: registry.register(
                session.db, group, sha, framework, approval, {}, session.run_id, 0
            )
        )
        step.properties["ModelPackageArn"] = (
            f"arn:aws:sagemaker:local:000000000000:model-package/{group}/{version.version}"
        )
        step.properties["ModelApprovalStatus"] = approval
        image = container.get("Image") or container.get("ModelPackageName") or "?"
        self._record_done(step, {}, f"registered {group} v{version.version}, served by {image}")

    def _transform(self, step: _Step) -> None:
        args = self.value(step.name, step.spec["Arguments"])
        model_step = next(
            (
                s
                for s in self.steps.values()
                if s.properties.get("ModelName") == args.get("ModelName")
            ),
            None,
        )
        if model_step is None:
            raise EmulationError(
                f"step {step.name!r} transforms with model {args.get('ModelName')!r}, which no step created"
            )
        container = model_step.properties["_container"]
        model_file = self._model_file(step.name, container)
        source = args["TransformInput"]
        content_type = str(source.get("ContentType", "text/csv"))
        accept = str(args["TransformOutput"].get("Accept", content_type))
        uri = str(source["DataSource"]["S3DataSource"]["S3Uri"])
        folder = self.session.scratch(step.name) / "transform"
        self._download(uri, folder / "input")
        out_prefix = str(args["TransformOutput"]["S3OutputPath"])
        out = folder / "output"
        out.mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in (folder / "input").rglob("*") if p.is_file())
        limit = int(args.get("MaxPayloadInMB", 6)) * 1024 * 1024
        if source.get("SplitType", "None") == "None":
            for file in files:
                if file.stat().st_size > limit:
                    raise EmulationError(
                        f"step {step.name!r}: {file.name} is over MaxPayloadInMB, and a file is"
                        " one request when SplitType is None"
                    )
        program = self._serving_program(step.name, container, folder)
        serving_env = container.get("Environment") or {}
        if program is not None:
            # The serving container: the handlers SAGEMAKER_PROGRAM names, from the source
            # tarball, in a process of their own; each file is a request, its response <file>.out.
            argv = [sys.executable, "-c", _SERVE, str(model_file.parent), str(program)]
            argv += [content_type, accept, str(out), *map(str, files)]
            # The model container's Environment is the serving process's, as on SageMaker.
            env = {**os.environ, **{str(k): str(v) for k, v in serving_env.items()}}
            exit_ = self.session.run_process(
                argv, env=env, cwd=folder, log=self.session.log_path(step.name)
            )
            if exit_.code != 0:
                raise _JobFailed(f"the serving container's handlers exited with code {exit_.code}")
        else:
            for file in files:
                predict.batch(model_file, file, out / (file.name + ".out"), content_type)
        self._upload(out, out_prefix)
        step.properties["TransformOutput.S3OutputPath"] = out_prefix
        artifact = self._artifact(out, "Dataset")
        self._record_done(step, {"predictions": artifact}, "")

    def _serving_program(self, step: str, container: dict[str, Any], folder: Path) -> Path | None:
        """The serving script a model's container runs, unpacked from its source tarball; None
        for an image that serves a model without one."""
        env = container.get("Environment") or {}
        program, submitted = env.get("SAGEMAKER_PROGRAM"), env.get("SAGEMAKER_SUBMIT_DIRECTORY")
        if not program or not submitted:
            if "sagemaker-scikit-learn" in str(container.get("Image", "")):
                raise EmulationError(
                    f"step {step!r}: the scikit-learn serving container has no default"
                    " model_fn; the model needs SAGEMAKER_PROGRAM and SAGEMAKER_SUBMIT_DIRECTORY"
                )
            return None
        code = folder / "code"
        self._download(str(submitted), folder / "sourcedir.tar.gz")
        with tarfile.open(folder / "sourcedir.tar.gz") as tar:
            tar.extractall(code, filter="data")
        if not (code / str(program)).is_file():
            raise EmulationError(f"step {step!r}: {program} is not in {submitted}")
        return code / str(program)

    def _download_model(self, uri: str) -> Path:
        with self._models_lock:  # a Model and a RegisterModel step may read it at once
            return self._unpack_model(uri)

    def _unpack_model(self, uri: str) -> Path:
        folder = self.session.scratch("_models") / content_hash(uri)[:16]
        if not folder.exists():
            archive = folder / "model.tar.gz"
            self._download(uri, archive)
            with tarfile.open(archive) as tar:
                tar.extractall(folder / "model", filter="data")
        return self._pick_model(folder / "model", uri)

    def _pick_model(self, folder: Path, uri: str) -> Path:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        if not files:
            raise EmulationError(f"no model in {uri}")
        try:
            return frameworks.find(folder)[0]
        except frameworks.ModelFormatError:
            return files[0]  # an image's own format (a built-in algorithm's model)

    # ----- jobs ------------------------------------------------------------------------------

    def _processing(self, step: _Step) -> None:
        args = self.value(step.name, step.spec["Arguments"])
        app = args["AppSpecification"]
        if not app.get("ContainerEntrypoint"):
            # A job running its image's own entrypoint: SageMaker's built-in Model Monitor
            # analyzer (the monitor's baselining step). Nothing here can run that image, and
            # no step reads what it writes: it is recorded as not run, with the reason.
            self._unrun(
                step,
                "skipped",
                f"runs the image {app.get('ImageUri', '')!r} with its own entrypoint (the"
                " built-in analyzer), which runs only on SageMaker",
            )
            return
        job = self.session.scratch(step.name) / "opt_ml"
        inputs = args.get("ProcessingInputs", [])
        outputs = args.get("ProcessingOutputConfig", {}).get("Outputs", [])
        for item in inputs:
            s3 = item.get("S3Input", {})
            self._download(
                str(s3["S3Uri"]),
                self._local(job, str(s3["LocalPath"])),
                prefix=s3.get("S3DataType") == "S3Prefix",
            )
        for item in outputs:
            self._local(job, str(item["S3Output"]["LocalPath"])).mkdir(parents=True, exist_ok=True)
            step.outputs[item["OutputName"]] = str(item["S3Output"]["S3Uri"])
        self._job(
            step,
            job,
            str(app.get("ImageUri", "")),
            [*app.get("ContainerEntrypoint", []), *app.get("ContainerArguments", [])],
            args.get("Environment", {}),
            len(app.get("ContainerEntrypoint", [])),
        )
        artifacts: dict[str, ArtifactValue] = {}
        for item in outputs:
            local = self._local(job, str(item["S3Output"]["LocalPath"]))
            self._upload(local, str(item["S3Output"]["S3Uri"]))
            name = item["OutputName"]
            step.properties[f"ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"] = item[
                "S3Output"
            ]["S3Uri"]
        for pf in step.spec.get("PropertyFiles", []):
            step.property_files[pf["PropertyFileName"]] = {
                "step": step.name,
                "name": pf["PropertyFileName"],
                "uri": step.outputs.get(pf["OutputName"], "").rstrip("/") + "/" + pf["FilePath"],
            }
        for item in outputs:
            local = self._local(job, str(item["S3Output"]["LocalPath"]))
            if any(local.iterdir()):
                artifacts[item["OutputName"]] = self._artifact(local, "Artifact")
        self._record_done(step, artifacts, "")

    def _training(self, step: _Step) -> None:
        args = self.value(step.name, step.spec["Arguments"])
        algo = args["AlgorithmSpecification"]
        job = self.session.scratch(step.name) / "opt_ml"
        for channel in args.get("InputDataConfig", []):
            uri = str(channel["DataSource"]["S3DataSource"]["S3Uri"])
            self._download(uri, job / "input" / "data" / channel["ChannelName"], prefix=True)
        config = job / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "hyperparameters.json").write_text(
            json.dumps({k: _text(v) for k, v in args.get("HyperParameters", {}).items()}),
            encoding="utf-8",
        )
        (config / "inputdataconfig.json").write_text(
            json.dumps(_input_data_config(args.get("InputDataConfig", []))), encoding="utf-8"
        )
        for sub in ("model", "output/data"):
            (job / sub).mkdir(parents=True, exist_ok=True)
        entrypoint = list(algo.get("ContainerEntrypoint", []))
        # An image's own entrypoint runs as ``docker run IMAGE train`` when the job gives no
        # arguments (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-dockerfile.html).
        arguments = list(algo.get("ContainerArguments") or ([] if entrypoint else ["train"]))
        self._job(
            step,
            job,
            str(algo.get("TrainingImage", "")),
            [*entrypoint, *arguments],
            args.get("Environment", {}),
            len(entrypoint),
        )
        given = str(args["OutputDataConfig"]["S3OutputPath"])
        out_path = given.rstrip("/")
        job_name = f"{step.name}-{self.execution_id}"
        # /opt/ml/model and /opt/ml/output/data are each uploaded as one archive, side by side
        # (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-output.html).
        for folder, archive_name in (("model", "model.tar.gz"), ("output/data", "output.tar.gz")):
            archive = io.BytesIO()
            with tarfile.open(fileobj=archive, mode="w:gz") as tar:
                for file in sorted(p for p in (job / folder).rglob("*") if p.is_file()):
                    tar.add(file, arcname=file.relative_to(job / folder).as_posix())
            self._put(f"{out_path}/{job_name}/output/{archive_name}", archive.getvalue())
        step.properties["ModelArtifacts.S3ModelArtifacts"] = (
            f"{out_path}/{job_name}/output/model.tar.gz"
        )
        step.properties["TrainingJobName"] = job_name
        step.properties["OutputDataConfig.S3OutputPath"] = given
        log = self.session.log_path(step.name)
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        for name, value in _final_metrics(algo.get("MetricDefinitions", []), text).items():
            step.properties[f"FinalMetricDataList['{name}'].Value"] = value
        values = job / "output" / "data" / "values.json"
        if values.is_file():
            step.properties["_values"] = json.loads(values.read_text(encoding="utf-8"))
        artifacts = {"model": self._artifact(job / "model", "Model")}
        self._record_done(step, artifacts, "")

    def _job(
        self,
        step: _Step,
        job: Path,
        image: str,
        argv: list[Any],
        environment: dict[str, Any],
        entrypoint: int,
    ) -> None:
        """Run a job's container command (its first ``entrypoint`` words replace the image's
        entrypoint): in ``image`` with ``job`` mounted at ``/opt/ml`` where this machine can run
        it, else here with the ``/opt/ml`` prefix of every path mapped onto ``job``."""
        session = self.session
        try:
            in_image = session.containers.usable(image)
        except ImageUnavailable as exc:
            raise _JobFailed(str(exc)) from None
        # AWS calls a step makes (an endpoint deploy) go to the run's moto server.
        aws = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }
        words = [_text(a) for a in argv]
        container = None
        env: dict[str, str] = {}
        if in_image:
            container = Container(
                image,
                tuple(words[:entrypoint]),
                tuple(words[entrypoint:]),
                {**{k: str(v) for k, v in environment.items()}, **aws},
                (Mount(str(job), "/opt/ml"),),
                "/opt/ml",
            )
            words = []
        else:
            shim = session.host_bin()
            env = {
                **os.environ,
                **{k: _map(str(v), job) for k, v in environment.items()},
                "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}",
                # The host's interpreter stands in for the image, packages installed.
                "MLCOMPILE_PIP": "",
                **aws,
            }
            if not entrypoint:  # the image's own: a local command stands in for it
                try:
                    words = [*stand_in(image, step.name), *words]
                except NoStandIn as exc:
                    raise EmulationError(str(exc)) from None
            words = [_map(w, job) for w in words]
        sid = self._start(step)
        if in_image:
            session.call(lambda: session.record_image(sid, image))
        step.properties["_sid"] = sid
        started = time.monotonic()
        # RetryPolicies retry service faults, throttling and capacity errors only: a job whose
        # own code fails (AlgorithmError, ClientError) is not retried, and this machine has no
        # service faults, so every job runs once.
        # https://docs.aws.amazon.com/sagemaker/latest/dg/pipelines-retry-policy.html
        attempt = 1
        exit_ = session.run_process(
            words, env=env, cwd=job, log=session.log_path(step.name), container=container
        )
        code = exit_.code
        step.properties["_started"] = started
        step.properties["_attempts"] = attempt
        if code != 0:
            raise _JobFailed(f"the job exited with code {code}")

    def _start(self, step: _Step, key: str | None = None) -> int:
        """The lineage record of a job step, as it starts."""
        session = self.session
        return session.call(
            lambda: session.start_step(
                step.name,
                step.name,
                step.spec["Type"],
                step.spec["Type"].lower(),
                content_hash(step.spec),
                {},
                {},
                key,
            )
        )

    def _record_done(self, step: _Step, artifacts: dict[str, ArtifactValue], message: str) -> None:
        session = self.session
        sid = step.properties.pop("_sid", None)
        started = step.properties.pop("_started", time.monotonic())
        attempts = int(step.properties.pop("_attempts", 1))
        params: dict[str, Any] = {"values": step.properties.pop("_values", {})}
        for name, file in step.property_files.items():
            try:
                params[name] = self._read_json(file["uri"])
            except EmulationError:
                continue
        flat = _flatten(params)
        if sid is None:
            sid = self._start(step)
        stored = {n: (a, 0) for n, a in artifacts.items()}
        key = step.properties.pop("_cache_key", None)
        if key is not None:
            entry = cache.Entry(
                dict(step.properties),
                dict(step.property_files),
                dict(step.outputs),
                dict(getattr(self._journal, "writes", None) or {}),
                time.time(),
            )
            cache.write_entry(session.store.root, key, entry)
        session.call(
            lambda: session.finish_step(
                sid,
                step.name,
                "done",
                key=key,
                attempts=attempts,
                message=message,
                params=flat,
                artifacts=stored,
                seconds=time.monotonic() - started,
            )
        )
        step.status = "done"

    # ----- S3 ----------------------------------------------------------------------------

    def _upload_bundles(self) -> None:
        for ref in _s3_uris(self.definition):
            bucket, key = _split(ref)
            candidates = [self.build_dir / key, self.build_dir / "code" / Path(key).name]
            for file in candidates:
                if file.is_file():
                    self._ensure_bucket(bucket)
                    self.s3.put_object(Bucket=bucket, Key=key, Body=file.read_bytes())
                    break

    def _upload_buckets(self) -> None:
        """Data the pipeline imports from S3 (an s3:// URI no step writes) comes from the
        store's stand-in for cloud buckets, ``<store>/buckets/<bucket>/<key>``, as on the
        Kubeflow and Vertex emulators."""
        buckets = self.session.store.root / "buckets"
        for folder in sorted(p for p in buckets.glob("*") if p.is_dir()):
            self._upload(folder, f"s3://{folder.name}")

    def _ensure_bucket(self, bucket: str) -> None:
        try:
            self.s3.head_bucket(Bucket=bucket)
        except Exception:
            self.s3.create_bucket(Bucket=bucket)

    def _put(self, uri: str, body: bytes) -> None:
        bucket, key = _split(uri)
        self._ensure_bucket(bucket)
        self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        writes = getattr(self._journal, "writes", None)
        if writes is not None:  # kept by content, for a later run's cache hit
            scratch = self.session.scratch("_journal") / content_hash(uri)[:16]
            scratch.write_bytes(body)
            writes[uri] = self.session.store.ingest(scratch)[0]

    def _upload(self, folder: Path, uri: str) -> None:
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            self._put(
                uri.rstrip("/") + "/" + file.relative_to(folder).as_posix(), file.read_bytes()
            )

    def _download(self, uri: str, target: Path, prefix: bool = False) -> None:
        bucket, key = _split(uri)
        try:
            listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
        except Exception:
            listed = []
        if not listed:
            raise EmulationError(f"nothing at {uri}: no step wrote there")
        exact = [o for o in listed if o["Key"] == key]
        if exact and not prefix and target.suffix:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            return
        for obj in listed:
            rel = obj["Key"][len(key) :].lstrip("/") or Path(obj["Key"]).name
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(self.s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())

    def _read_json(self, uri: str) -> Any:
        bucket, key = _split(uri)
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception:
            raise EmulationError(f"no property file at {uri}") from None
        return json.loads(body)

    def _artifact(self, folder: Path, kind: str) -> ArtifactValue:
        store = self.session.store
        copy = folder.parent / (folder.name + ".stored")
        if folder.is_dir():
            shutil.copytree(folder, copy)
        else:
            shutil.copyfile(folder, copy)
        sha, _ = store.ingest(copy)
        return ArtifactValue(sha, kind, str(store.path_of(sha)), store.uri_of(sha))

    def _local(self, job: Path, path: str) -> Path:
        return Path(_map(path, job))

    def _pipeline_outputs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, text in self.definition.get("Metadata", {}).items():
            if not key.startswith("mlcompile-output-"):
                continue
            try:
                out[key[len("mlcompile-output-") :]] = self._output(json.loads(text))
            except (EmulationError, ValueError):
                continue
        return out

    def _output(self, expr: Any) -> Any:
        """A pipeline output as the compiler describes it: ``{"mlcompile:OneOf": [...]}`` is
        the first of its values whose step ran (a merge: the other branch did not run)."""
        if isinstance(expr, dict) and set(expr) == {"mlcompile:OneOf"}:
            for option in expr["mlcompile:OneOf"]:
                try:
                    return self._output(option)
                except EmulationError:
                    continue
            raise EmulationError("no branch of a merged output ran")
        if isinstance(expr, dict) and set(expr) == {"mlcompile:ArchiveGet"}:
            return self._archive_get(expr["mlcompile:ArchiveGet"])
        if isinstance(expr, list):
            return [self._output(v) for v in expr]
        return self.value("pipeline outputs", expr)

    def _archive_get(self, spec: dict[str, Any]) -> Any:
        """An entry of a JSON file inside a training job's output.tar.gz."""
        uri = str(self.value("pipeline outputs", spec["S3Uri"]))
        bucket, key = _split(uri)
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception:
            raise EmulationError(f"no archive at {uri}") from None
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            member = tar.extractfile(str(spec["File"]))
            if member is None:
                raise EmulationError(f"{uri} holds no file {spec['File']!r}")
            data = json.loads(member.read())
        if str(spec["Path"]) not in data:
            raise EmulationError(f"{spec['File']!r} in {uri} has no {spec['Path']!r}")
        return data[str(spec["Path"])]


class _JobFailed(EmulationError):
    pass


#: Where a model container definition names its model data.
#: The serving container's request loop for a transform job: load the model with the script's
#: model_fn, then input_fn, predict_fn and output_fn per request, as the framework server does.
_SERVE = """
import pathlib, sys
model_dir, program, content_type, accept, out = sys.argv[1:6]
sys.path.insert(0, str(pathlib.Path(program).parent))
handlers = __import__(pathlib.Path(program).stem)
model = handlers.model_fn(model_dir)
for name in sys.argv[6:]:
    rows = handlers.input_fn(pathlib.Path(name).read_bytes(), content_type)
    body, _ = handlers.output_fn(handlers.predict_fn(rows, model), accept)
    (pathlib.Path(out) / (pathlib.Path(name).name + ".out")).write_text(body)
"""

_MODEL_DATA = ("ModelDataUrl", "ModelDataSource.S3DataSource.S3Uri")


def _input_data_config(channels: list[dict[str, Any]]) -> dict[str, Any]:
    """``/opt/ml/input/config/inputdataconfig.json``: each channel's content type, input mode,
    distribution and record wrapping, as SageMaker writes it for the container
    (https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-training-algo-running-container.html)."""
    out: dict[str, Any] = {}
    for channel in channels:
        source = channel.get("DataSource", {}).get("S3DataSource", {})
        entry = {
            "TrainingInputMode": channel.get("InputMode", "File"),
            "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
        if channel.get("ContentType"):
            entry["ContentType"] = channel["ContentType"]
        out[str(channel["ChannelName"])] = entry
    return out


def _dig(data: Any, path: str) -> Any:
    for key in path.split("."):
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _final_metrics(definitions: list[dict[str, Any]], log: str) -> dict[str, float]:
    """Each defined metric's last value in the job's log, as DescribeTrainingJob's
    FinalMetricDataList has it: the regular expression's first group, as the API's 32-bit
    float (MetricData.Value); a value that is not a number is not recorded."""
    found: dict[str, float] = {}
    for definition in definitions:
        for match in re.finditer(str(definition["Regex"]), log):
            try:
                value = float(match.group(1))
            except (IndexError, ValueError):
                continue
            found[str(definition["Name"])] = struct.unpack("f", struct.pack("f", value))[0]
    return found


def _map(text: str, job: Path) -> str:
    return text.replace("/opt/ml", str(job))


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise EmulationError(f"{uri!r} is not an S3 URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def _s3_uris(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.startswith("s3://") else []
    if isinstance(value, dict):
        return [u for v in value.values() for u in _s3_uris(v)]
    if isinstance(value, list):
        return [u for v in value for u in _s3_uris(v)]
    return []


def _gets(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [str(value["Get"])] if "Get" in value else []
        return found + [g for v in value.values() for g in _gets(v)]
    if isinstance(value, list):
        return [g for v in value for g in _gets(v)]
    return []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    return "String"


def _family(kind: str, value: Any) -> str:
    if kind == "Json":
        kind = _kind(value)
    return "number" if kind in ("Integer", "Float") else kind


def _flatten(files: dict[str, Any]) -> dict[str, Any]:
    """A step's values as parameters: the mlc-values property file's entries, by name."""
    flat: dict[str, Any] = {}
    for name, data in files.items():
        if isinstance(data, dict) and name != "values-json":  # the same values, as JSON text
            for key, value in data.items():
                flat[key if name == "values" else f"{name}.{key}"] = value
    return flat
