"""Running a pipeline's IR on this machine: the loop that starts ready steps and records results.

The main thread owns the scheduler and the database; worker threads (at most ``workers``) each
wait on one step process. A step is first looked up in the cache; on a miss it runs, and its
outputs, lineage and cache entry are committed together. Ctrl-C stops every step process, marks
the run interrupted and leaves only complete artifacts and records behind.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcompile.dsl.artifacts import Metrics
from mlcompile.ir import nodes as ir
from mlcompile.ir.canonical import canonical_json, content_hash
from mlcompile.local import imports, registry, sigint
from mlcompile.local.cache import cache_key, code_sha256
from mlcompile.local.executor import Executor, StepJob, StepOutcome
from mlcompile.local.lineage import LineageDB
from mlcompile.local.preflight import package_set, preflight
from mlcompile.local.process import Processes
from mlcompile.local.progress import QuietReporter, Reporter, StepView
from mlcompile.local.scheduler import NodeRun, Ready, Scheduler
from mlcompile.local.store import ArtifactStore, safe_name
from mlcompile.local.values import ArtifactValue, as_text
from mlcompile.local.wakeup import Wakeup
from mlcompile.runtime import frameworks
from mlcompile.runtime.secrets import SecretUnavailable, local_variable, resolve


@dataclass
class RunResult:
    run_id: str
    pipeline: str
    ir_hash: str
    status: str
    steps: list[StepView]
    outputs: dict[str, Any]
    seconds: float
    store: Path

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"

    def step(self, name: str) -> StepView:
        return next(v for v in self.steps if v.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "run_id": self.run_id,
            "pipeline": self.pipeline,
            "ir_hash": self.ir_hash,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "store": str(self.store),
            "outputs": {k: jsonable(v) for k, v in self.outputs.items()},
            "steps": [
                {
                    "name": v.name,
                    "status": v.status,
                    "cached": v.cached_from is not None,
                    "cached_from_run": v.cached_from,
                    "attempts": v.attempts,
                    "seconds": None if v.seconds is None else round(v.seconds, 3),
                    "message": v.message,
                }
                for v in self.steps
            ],
        }


def run_pipeline(
    pipeline: ir.Pipeline,
    params: dict[str, Any],
    *,
    root: Path,
    store: Path,
    spec: str = "",
    workers: int = 2,
    reporter: Reporter | None = None,
    backoff_scale: float = 1.0,
) -> RunResult:
    """Run ``pipeline`` with ``params`` (already typed) and return what happened.

    ``root`` is the project root step code paths are relative to; ``backoff_scale`` shrinks
    retry waits (tests use it).
    """
    runner = _Runner(pipeline, params, root, store, spec, max(1, workers), reporter, backoff_scale)
    return runner.run()


@dataclass
class _Inflight:
    node: NodeRun
    step_id: int
    key: str | None
    log: Path


@dataclass
class _Runner:
    pipeline: ir.Pipeline
    params: dict[str, Any]
    root: Path
    store_dir: Path
    spec: str
    workers: int
    reporter: Reporter | None
    backoff_scale: float
    views: dict[str, StepView] = field(default_factory=dict)
    inflight: dict[int, _Inflight] = field(default_factory=dict)

    def run(self) -> RunResult:
        self.pythons = preflight(self.pipeline, self.params, self.store_dir)
        # Ctrl-C from here on only sets a flag the loop acts on (see wakeup.py), so it can
        # arrive at any point without leaving a run half-recorded.
        self.wakeup: Wakeup[tuple[int, Future[StepOutcome]]] = Wakeup()
        previous = sigint.catch(self.wakeup.interrupt)
        try:
            return self._run()
        finally:
            sigint.release(previous)
            self.wakeup.close()

    def _run(self) -> RunResult:
        self.store = ArtifactStore(self.store_dir)
        self.db = LineageDB(self.store.root / "lineage.db")
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        self.ir_hash = content_hash(self.pipeline)
        self.report = self.reporter or QuietReporter()
        self.cancel = threading.Event()
        self.scheduler = Scheduler(self.pipeline, self.params)
        started = time.monotonic()
        self.db.start_run(
            self.run_id, self.pipeline.name, self.spec, str(self.root), self.ir_hash, self.params
        )
        self.store.keep_definition(self.ir_hash, canonical_json(self.pipeline))
        scratch = self.store.scratch(self.run_id)
        status = "interrupted"
        self.processes = Processes(self.root, scratch)
        self.executor = Executor(self.store, self.processes, self.cancel, self.backoff_scale)
        self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="mlc-step")
        try:
            self._loop()
            failed = any(v.status in ("failed", "upstream_failed") for v in self.views.values())
            status = "failed" if failed else "succeeded"
        except _Interrupted:
            pass
        finally:
            interrupted = status == "interrupted"
            if interrupted:
                self._stop()
            self.processes.close(kill=interrupted)
            self.pool.shutdown(wait=True)
            self.report.close()
            outputs = self.scheduler.outputs() if not interrupted else {}
            close_run(self.db, self.store, self.run_id, status, outputs, self.views.values())
        return RunResult(
            self.run_id,
            self.pipeline.name,
            self.ir_hash,
            status,
            list(self.views.values()),
            outputs,
            time.monotonic() - started,
            self.store.root,
        )

    # ----- the loop ------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            if self.wakeup.interrupted:
                raise _Interrupted
            ready, unrun = self.scheduler.advance()
            for node in unrun:
                self._record_unrun(node)
            for item in ready:
                if self.wakeup.interrupted:
                    raise _Interrupted
                self._start(item)
            if ready or unrun:
                continue
            if not self.inflight:
                return
            event = self.wakeup.next()
            if event is None:
                raise _Interrupted
            step_id, future = event
            self._complete(self.inflight.pop(step_id), future)

    def _stop(self) -> None:
        """Ctrl-C: kill running steps, then record them as interrupted."""
        self.cancel.set()
        self.processes.close(kill=True)
        for entry in list(self.inflight.values()):
            self._settle(entry.node, entry.step_id, "interrupted", 0, "interrupted", None)
        self.inflight.clear()
        self.db.interrupt_open_steps(self.run_id)

    # ----- starting a step -----------------------------------------------------------------------

    def _start(self, ready: Ready) -> None:
        node, component = ready.node, ready.node.component
        params = {k: v for k, v in ready.inputs.items() if not _is_artifact(v)}
        artifacts = {k: v for k, v in ready.inputs.items() if _is_artifact(v)}
        key = cache_key(component, node.task, ready.inputs, ready.env)
        log = self.store.log_path(self.run_id, node.name)
        step_id = self.db.start_step(
            self.run_id,
            node.name,
            node.task.name,
            component.name,
            component.builtin.op if component.builtin else component.kind,
            code_sha256(component),
            params,
            artifacts,
            key,
        )
        self.views.setdefault(node.name, StepView(node.name, "running"))
        self.report.step_started(node.name)
        if key is not None and self._from_cache(node, step_id, key):
            return
        entry = _Inflight(node, step_id, key, log)
        try:
            job = self._job(ready, entry)
        except _StepError as exc:
            self._settle(node, step_id, "failed", 0, str(exc), None)
            return
        if job is None:
            return  # a built-in that ran here
        self.inflight[step_id] = entry
        future = self.pool.submit(self.executor.run, job)
        future.add_done_callback(lambda f: self.wakeup.post((step_id, f)))

    def _from_cache(self, node: NodeRun, step_id: int, key: str) -> bool:
        hit = self.db.cached(key, self.store.path_of)
        if hit is None:
            return False
        outputs = {**hit.params, **hit.artifacts}
        self.db.finish_step(
            step_id,
            "done",
            attempts=0,
            message=f"cached from run {hit.run_id}",
            outputs=hit.params,
            artifacts={name: (a, 0) for name, a in hit.artifacts.items()},
            cached_from=hit.step_id,
        )
        self.scheduler.finish(node, "done", outputs, "")
        self._view(StepView(node.name, "done", 0, 0.0, "", hit.run_id))
        return True

    def _job(self, ready: Ready, entry: _Inflight) -> StepJob | None:
        node, component = ready.node, ready.node.component
        task = node.task
        outputs = {p.name: p.type for p in component.outputs if ir.is_artifact_type(p.type)}
        common: dict[str, Any] = {
            "name": node.name,
            "outputs": outputs,
            "retry": task.options.retry,
            "timeout": task.options.timeout_seconds,
            "workdir": self.store.scratch(self.run_id) / safe_name(node.name),
            "log": entry.log,
        }
        if component.builtin is not None:
            op = component.builtin.op
            if op != "batch_predict":
                self._builtin(ready, entry, op, component.builtin.config)
                return None
            model = self._model_artifact(ready.inputs["model"])
            batch: dict[str, Any] = {
                "kind": "batch_predict",
                "config": component.builtin.config,
                "inputs": {"model": model.ref(), "data": ready.inputs["data"].ref()},
            }
            return StepJob(kind="python", spec=batch, **common)
        self._check_secrets(node, ready.secrets)
        if component.function is not None:
            spec: dict[str, Any] = {
                "kind": "function",
                "step": node.name,
                "root": str(self.root),
                "code_file": component.function.file,
                "function": component.function.function,
                "params": {k: v for k, v in ready.inputs.items() if not _is_artifact(v)},
                "inputs": {
                    k: [a.ref() for a in v] if isinstance(v, list) else v.ref()
                    for k, v in ready.inputs.items()
                    if _is_artifact(v)
                },
                "env": ready.env,
                "secrets": [
                    {"env": ref.env, "name": name, "key": ref.key} for ref, name in ready.secrets
                ],
            }
            python = self.pythons.get(package_set(task))
            return StepJob(kind="python", spec=spec, python=python, **common)
        assert component.container is not None
        argv = self._command(node, component, ready.inputs, ready.image)
        env = dict(ready.env)
        for ref, name in ready.secrets:
            try:
                env[ref.env] = resolve(name, "local", key=ref.key)
            except SecretUnavailable as exc:
                raise _StepError(str(exc)) from None
        values = {p.name: p.type for p in component.outputs if not ir.is_artifact_type(p.type)}
        return StepJob(kind="command", spec={}, argv=argv, env=env, values=values, **common)

    def _check_secrets(self, node: NodeRun, refs: list[tuple[ir.SecretRef, str]]) -> None:
        """Fail before starting a process when a secret cannot be found: retrying cannot help."""
        for ref, name in refs:
            variable = local_variable(name)
            if ref.env not in os.environ and variable not in os.environ:
                raise _StepError(
                    f"step {node.task.name!r} needs secret {name!r}: set the environment variable"
                    f" {variable} (locally, secrets come from MLCOMPILE_SECRET_<NAME> variables)"
                )

    def _command(
        self, node: NodeRun, component: ir.Component, inputs: dict[str, Any], image: str | None
    ) -> list[tuple[str | ir.Placeholder, ...]]:
        """The container command with inputs filled in; output paths are filled per attempt."""
        assert component.container is not None
        spec = component.container
        argv: list[tuple[str | ir.Placeholder, ...]] = []
        for arg in (*spec.command, *spec.args):
            parts: list[str | ir.Placeholder] = []
            for part in arg:
                if isinstance(part, str) or part.kind == "output_path":
                    parts.append(part)
                    continue
                value = inputs.get(part.name)
                if value is None:
                    port = component.input(part.name)
                    value = port.default if port is not None else None
                if isinstance(value, list) and all(isinstance(v, ArtifactValue) for v in value):
                    # collect() of artifacts: the JSON list of their paths, as on SageMaker.
                    parts.append(json.dumps([v.path for v in value]))
                    continue
                parts.append(value.path if isinstance(value, ArtifactValue) else as_text(value))
            argv.append(tuple(parts))
        if not spec.command:
            # A training image's own entrypoint: a local command stands in for it.
            from mlcompile.emulate.entrypoints import NoStandIn, stand_in

            try:
                argv = [(a,) for a in stand_in(image or spec.image, node.task.name)] + argv
            except NoStandIn as exc:
                raise _StepError(str(exc)) from None
        program = "".join(p for p in argv[0] if isinstance(p, str))
        found = shutil.which(program, path=os.environ.get("PATH")) or (
            (self.root / program).is_file() and "/" in program
        )
        if not found:
            raise _StepError(
                f"container step {node.task.name!r} runs {program!r}, which is not on PATH."
                f" Locally the runner runs a container step's command on this machine, without"
                f" the image {spec.image!r}: install {program!r}, or run this step on a platform"
            )
        return argv

    def _model_artifact(self, value: ArtifactValue) -> ArtifactValue:
        """A trained model, or the model behind a registered version."""
        if value.type != "RegisteredModel":
            return value
        version = self._registered(value)
        path = self.store.path_of(version.model_sha256)
        return ArtifactValue(version.model_sha256, "Model", str(path), path.as_uri())

    def _registered(self, value: ArtifactValue) -> registry.ModelVersion:
        card = json.loads(Path(value.path).read_text(encoding="utf-8"))
        version = registry.model(self.db, card["name"], int(card["version"]))
        if version is None:
            raise _StepError(f"model {card['name']} v{card['version']} is not in the registry")
        return version

    # ----- built-ins that run in the runner -----------------------------------------------------

    def _builtin(self, ready: Ready, entry: _Inflight, op: str, config: dict[str, Any]) -> None:
        node, inputs = ready.node, ready.inputs
        try:
            if op == "fail":
                raise _StepError(as_text(inputs.get("message", "the pipeline called fail()")))
            if op == "import_artifact":
                outputs, message = self._import(entry, inputs, config)
            elif op == "register_model":
                outputs, message = self._register(entry, inputs, config)
            else:
                outputs, message = self._deploy(entry, inputs, config)
        except _StepError as exc:
            self._settle(node, entry.step_id, "failed", 1, str(exc), None)
            return
        self._settle(node, entry.step_id, "done", 1, message, None, artifacts=outputs)

    def _import(
        self, entry: _Inflight, inputs: dict[str, Any], config: dict[str, Any]
    ) -> tuple[dict[str, tuple[ArtifactValue, int]], str]:
        uri = as_text(inputs.get("uri"))
        target = self.store.scratch(self.run_id) / safe_name(entry.node.name) / "imported"
        try:
            fetched = imports.fetch(uri, self.root, target)
        except imports.ImportFailed as exc:
            raise _StepError(str(exc)) from None
        sha, size = self.store.ingest(fetched)
        stored = self.store.path_of(sha)
        value = ArtifactValue(
            sha, config["artifact_type"], str(stored), stored.as_uri(), {"source_uri": uri}
        )
        return {"artifact": (value, size)}, f"imported {uri} (sha256 {sha[:12]})"

    def _register(
        self, entry: _Inflight, inputs: dict[str, Any], config: dict[str, Any]
    ) -> tuple[dict[str, tuple[ArtifactValue, int]], str]:
        model: ArtifactValue = inputs["model"]
        try:
            frameworks.check_registered(
                Path(model.path),
                config.get("framework") or "sklearn",
                config.get("serving_image") or "",
            )
        except frameworks.ModelFormatError as exc:
            raise _StepError(str(exc)) from None
        metrics: dict[str, float] = {}
        if isinstance(inputs.get("metrics"), ArtifactValue):
            metrics = Metrics(inputs["metrics"].path).read()
        version, new = registry.register(
            self.db,
            config["model_name"],
            model.sha256,
            config.get("framework") or "sklearn",
            str(inputs.get("approval", "PendingManualApproval")),
            metrics,
            self.run_id,
            entry.step_id,
        )
        card = self._write_artifact(entry, "registered_model", "RegisteredModel", version.card())
        registry.set_card_sha(self.db, version, card[0].sha256)
        note = "registered" if new else "already registered for this model:"
        return {"registered_model": card}, f"{note} {version.name} v{version.version}"

    def _deploy(
        self, entry: _Inflight, inputs: dict[str, Any], config: dict[str, Any]
    ) -> tuple[dict[str, tuple[ArtifactValue, int]], str]:
        version = self._registered(inputs["model"])
        name = config["endpoint"]
        registry.deploy(self.db, name, version, self.run_id, entry.step_id)
        record = {"endpoint": name, "model": version.name, "version": version.version}
        artifact = self._write_artifact(entry, "endpoint", "Artifact", record)
        return {"endpoint": artifact}, (
            f"endpoint {name} serves {version.name} v{version.version}:"
            f" mlcompile serve {name} --store {self.store.root}"
        )

    def _write_artifact(
        self, entry: _Inflight, name: str, type_name: str, content: dict[str, Any]
    ) -> tuple[ArtifactValue, int]:
        folder = self.store.scratch(self.run_id) / safe_name(entry.node.name)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(canonical_json(content), encoding="utf-8")
        sha, size = self.store.ingest(path)
        stored = self.store.path_of(sha)
        return ArtifactValue(sha, type_name, str(stored), stored.as_uri(), dict(content)), size

    # ----- finishing -----------------------------------------------------------------------------

    def _complete(self, entry: _Inflight, future: Future[StepOutcome]) -> None:
        try:
            outcome = future.result()
        except Exception as exc:  # a bug in the executor must not take the run down with it
            outcome = StepOutcome("failed", 0, f"internal error: {type(exc).__name__}: {exc}")
        key = entry.key if outcome.status == "done" else None
        self._settle(
            entry.node,
            entry.step_id,
            outcome.status,
            outcome.attempts,
            outcome.message,
            key,
            params=outcome.params,
            artifacts=outcome.artifacts,
            seconds=time.monotonic() - outcome.started,
        )

    def _settle(
        self,
        node: NodeRun,
        step_id: int,
        status: str,
        attempts: int,
        message: str,
        key: str | None,
        *,
        params: dict[str, Any] | None = None,
        artifacts: dict[str, tuple[ArtifactValue, int]] | None = None,
        seconds: float | None = None,
    ) -> None:
        log = self.store.log_path(self.run_id, node.name)
        self.db.finish_step(
            step_id,
            status,
            attempts=attempts,
            message=message,
            outputs=params,
            artifacts=artifacts,
            log=str(log.relative_to(self.store.root)) if log.exists() else None,
            cache_key=key,
        )
        outputs = {**(params or {}), **{k: a for k, (a, _) in (artifacts or {}).items()}}
        self.scheduler.finish(node, status, outputs, message)
        self._view(StepView(node.name, status, attempts, seconds, message))

    def _record_unrun(self, node: NodeRun) -> None:
        if not isinstance(node.node, ir.Task):
            self._view(StepView(node.name, node.status, message=node.message))
            return
        self.db.record_unrun(
            self.run_id, node.name, node.task.name, node.task.component, node.status, node.message
        )
        self._view(StepView(node.name, node.status, message=node.message))

    def _view(self, view: StepView) -> None:
        self.views[view.name] = view
        self.report.step_settled(view)


class _Interrupted(Exception):
    """Ctrl-C was seen by the loop: stop the steps and record the run as interrupted."""


class _StepError(Exception):
    """A step fails without running: a missing secret or program, a fail() built-in."""


def _is_artifact(value: Any) -> bool:
    return isinstance(value, ArtifactValue) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, ArtifactValue) for v in value)
    )


def close_run(
    db: LineageDB,
    store: ArtifactStore,
    run_id: str,
    status: str,
    outputs: Mapping[str, Any],
    views: Iterable[StepView],
) -> None:
    """Record how a run ended (its outputs, and which steps failed) and free its scratch space:
    the embedded runner and the emulators of compiled specs end a run the same way."""
    failed_steps = [v.name for v in views if v.status == "failed"]
    db.finish_run(
        run_id,
        status,
        {k: jsonable(v) for k, v in outputs.items()},
        ("failed: " + ", ".join(failed_steps)) if failed_steps else "",
    )
    db.close()
    store.clear_scratch(run_id)


def jsonable(value: Any) -> Any:
    if isinstance(value, ArtifactValue):
        return {"artifact": value.type, "sha256": value.sha256, "uri": value.uri}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value
