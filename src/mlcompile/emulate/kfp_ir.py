"""An executor of KFP v2 pipeline IR (PipelineSpec): the compiled Kubeflow YAML, and the
``pipelineSpec`` inside a Vertex PipelineJob request, run on this machine.

It follows the semantics the KFP backend documents, so a mistake in the compiled file fails here
as it would on the cluster:

- DAG order: a task starts when every task in ``dependentTasks`` and every producer it reads
  from succeeded; if one did not, the task does not run ("upstream failed"), unless its
  ``triggerPolicy.strategy`` is ``ALL_UPSTREAM_TASKS_COMPLETED`` (an exit handler's task), which
  runs once they have all finished, whatever their state.
  https://www.kubeflow.org/docs/components/pipelines/user-guides/core-functions/control-flow/
- ``triggerPolicy.condition`` is CEL over the task's input parameters; false skips the task
  and, for a DAG, everything in it (see :mod:`mlcompile.emulate.cel`).
- ``parameterIterator``/``artifactIterator`` fan a DAG out per item, at most
  ``iteratorPolicy.parallelismLimit`` at once (0 is unlimited); the loop task succeeds only when
  every iteration did, so whatever depends on it waits for all of them (a barrier).
- DAG outputs: ``valueFromParameter``, ``valueFromOneof`` (the first selector whose producer
  ran) and ``artifactSelectors``; a loop's outputs are the list over its iterations.
- ``retryPolicy``: ``maxRetryCount`` more attempts, waiting ``backoffDuration`` (default 0s: an
  immediate retry) times ``backoffFactor`` (default 2) per retry, capped at
  ``backoffMaxDuration`` (default 3600s); field comments of ``PipelineTaskSpec.RetryPolicy`` in
  https://github.com/kubeflow/pipelines/blob/master/api/v2alpha1/pipeline_spec.proto .
- ``cachingOptions.enableCache``: a task whose executor and inputs are unchanged reuses the
  outputs of an earlier successful execution (keys include artifact contents, as KFP's cache
  key includes the input artifacts' ids).
- Container executors run their ``command`` + ``args`` with the placeholders of
  https://www.kubeflow.org/docs/components/pipelines/user-guides/components/container-components/
  filled in (``{{$}}`` is the executor input JSON); the executor output file and each output
  parameter's ``output_file`` are read back. Artifact URIs under the pipeline root, ``gs://``,
  ``s3://`` and ``minio://`` map to local folders; the step sees local paths.
- ``importer`` executors make an artifact of a constant or parameter URI.

kfp's own local runner (``kfp.local``) runs lightweight Python components only: it refuses
container components in its SubprocessRunner and DAGs with control flow, which is all that
mlcompile emits, so this executor does not delegate to it. Vertex's Google Cloud Pipeline
Components are executed by :mod:`mlcompile.emulate.gcpc`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcompile.emulate import cel
from mlcompile.emulate.containers import Container, ImageUnavailable, Mount
from mlcompile.emulate.entrypoints import NoStandIn, stand_in
from mlcompile.emulate.session import Cancelled, EmulationError, Session
from mlcompile.ir.canonical import content_hash
from mlcompile.local.process import Exit
from mlcompile.local.values import ArtifactValue
from mlcompile.platforms.kubeflow.platform import CLUSTER_DEFAULT_ROOT

#: Control-flow DAGs the KFP compiler names this way; their tasks keep their own names.
_CONTROL = re.compile(r"^(condition|for-loop|exit-handler)(-\d+)?(-branches|-then|-else)?$")
_PLACEHOLDER = re.compile(r"\{\{\$(?:\.[^}]*)?\}\}")
_EXIT_STRATEGY = "ALL_UPSTREAM_TASKS_COMPLETED"

#: Runs a Google Cloud Pipeline Component in place of its launcher (set for Vertex).
GcpcHandler = Callable[["KfpRun", "Execution"], "Outcome"]


@dataclass
class Outcome:
    status: str  # done | failed
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, ArtifactValue] = field(default_factory=dict)
    attempts: int = 1


@dataclass
class TaskState:
    status: str = "pending"  # pending | running | done | failed | skipped | upstream_failed
    params: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)  # ArtifactValue or a list of them
    message: str = ""


@dataclass
class Execution:
    """One container execution: its task, resolved inputs and where its outputs go."""

    name: str
    task_name: str
    component: dict[str, Any]
    executor: dict[str, Any]
    params: dict[str, Any]
    artifacts: dict[str, Any]
    folder: Path
    log: Path
    output_uris: dict[str, str] = field(default_factory=dict)
    output_params: dict[str, str] = field(default_factory=dict)
    output_file: str = ""
    #: Variables the platform sets beyond the container's own (Kubernetes secrets).
    env: dict[str, str] = field(default_factory=dict)
    #: The lineage record of the task this execution is an attempt of.
    step_id: int = 0

    def executor_input(self) -> dict[str, Any]:
        """The JSON ``{{$}}`` stands for (kfp's ``ExecutorInput`` message)."""
        outputs = self.component.get("outputDefinitions", {})
        return {
            "inputs": {
                "parameterValues": self.params,
                "artifacts": {
                    name: {"artifacts": [_artifact_json(name, a) for a in _as_list(value)]}
                    for name, value in self.artifacts.items()
                },
            },
            "outputs": {
                "parameters": {n: {"outputFile": p} for n, p in self.output_params.items()},
                "artifacts": {
                    name: {
                        "artifacts": [
                            {
                                "name": name,
                                "type": spec.get("artifactType", {}),
                                "uri": self.output_uris[name],
                                "metadata": {},
                            }
                        ]
                    }
                    for name, spec in outputs.get("artifacts", {}).items()
                },
                "outputFile": self.output_file,
            },
        }


class KfpRun:
    """One run of a PipelineSpec; ``walk`` is called on a worker thread by the session."""

    def __init__(
        self,
        session: Session,
        spec: dict[str, Any],
        params: dict[str, Any],
        build_dir: Path,
        *,
        gcpc: GcpcHandler | None = None,
        backoff_scale: float = 1.0,
        project: str = "",
        location: str = "",
        kubernetes: dict[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.spec = spec
        #: The platform document's Kubernetes executor configs, by executor label.
        self.kubernetes = kubernetes or {}
        self.params = params
        self.build_dir = build_dir
        self.gcpc = gcpc
        self.backoff_scale = backoff_scale
        self.project = project
        self.location = location
        self.components: dict[str, Any] = spec.get("components", {})
        self.executors: dict[str, Any] = spec.get("deploymentSpec", {}).get("executors", {})
        self.root_uri = str(spec.get("defaultPipelineRoot", ""))
        self.job_id = session.run_id
        # Where each output artifact's URI is kept once stored: a later task may be handed the
        # URI as a value (a list of instance files), as KFP hands it the object's address.
        self.stored: dict[str, Path] = {}

    # ----- the walk ----------------------------------------------------------------------------

    def walk(self) -> dict[str, Any]:
        root = self.spec["root"]
        inputs = dict(self.params)
        for name, definition in root.get("inputDefinitions", {}).get("parameters", {}).items():
            if name not in inputs and "defaultValue" in definition:
                inputs[name] = _typed(definition["defaultValue"], definition.get("parameterType"))
        state = self._dag(root, inputs, {}, "", "")
        return {"outputs": {**state.params, **state.artifacts}}

    def _dag(
        self,
        component: dict[str, Any],
        params: dict[str, Any],
        artifacts: dict[str, Any],
        prefix: str,
        suffix: str,
    ) -> TaskState:
        """Run one DAG to the end; its state is failed when any task in it failed."""
        dag = component["dag"]
        tasks: dict[str, dict[str, Any]] = dag.get("tasks", {})
        states = {name: TaskState() for name in tasks}
        lock = threading.Condition()
        threads: list[threading.Thread] = []

        def run_one(name: str) -> None:
            try:
                result = self._task(name, tasks[name], states, params, artifacts, prefix, suffix)
            except Cancelled:
                result = TaskState("interrupted", message="interrupted")
            except EmulationError as exc:  # the spec cannot run as written: this task fails
                result = TaskState("failed", message=str(exc))
                with contextlib.suppress(Cancelled):
                    self._record_failed(name, tasks[name], prefix, suffix, str(exc))
            except BaseException as exc:  # reported as this task's failure, not a crash
                result = TaskState("failed", message=f"internal error: {type(exc).__name__}: {exc}")
                with contextlib.suppress(Cancelled):
                    self._record_failed(name, tasks[name], prefix, suffix, result.message)
            with lock:
                states[name] = result
                lock.notify_all()

        with lock:
            while True:
                if self.session.cancel.is_set():
                    break
                for name, task in tasks.items():
                    if states[name].status != "pending":
                        continue
                    upstream = _upstream(task)
                    missing = [u for u in upstream if u not in states]
                    if missing:
                        raise EmulationError(
                            f"task {name!r} depends on {missing[0]!r}, which is not a task of"
                            " its DAG"
                        )
                    settled = [states[u].status for u in upstream]
                    if any(s in ("pending", "running") for s in settled):
                        continue
                    exit_task = task.get("triggerPolicy", {}).get("strategy") == _EXIT_STRATEGY
                    bad = [u for u in upstream if states[u].status != "done"]
                    if bad and not exit_task:
                        status = (
                            "skipped"
                            if all(states[u].status == "skipped" for u in bad)
                            else "upstream_failed"
                        )
                        reason = f"{_display(bad[0])} did not succeed"
                        states[name] = TaskState(status, message=reason)
                        self._record_unrun(name, task, prefix, suffix, status, reason)
                        continue
                    states[name].status = "running"
                    thread = threading.Thread(target=run_one, args=(name,), daemon=True)
                    threads.append(thread)
                    thread.start()
                if all(s.status not in ("pending", "running") for s in states.values()):
                    break
                lock.wait(timeout=0.5)
        if self.session.cancel.is_set():
            raise Cancelled
        failed = [n for n, s in states.items() if s.status in ("failed", "upstream_failed")]
        result = TaskState("failed" if failed else "done")
        if failed:
            result.message = "failed inside: " + ", ".join(_display(n) for n in failed)
        self._dag_outputs(dag, states, result)
        return result

    def _dag_outputs(
        self, dag: dict[str, Any], states: dict[str, TaskState], out: TaskState
    ) -> None:
        outputs = dag.get("outputs", {})
        for name, spec in outputs.get("parameters", {}).items():
            selectors = (
                [spec["valueFromParameter"]]
                if "valueFromParameter" in spec
                else spec.get("valueFromOneof", {}).get("parameterSelectors", [])
            )
            for selector in selectors:
                state = states.get(selector["producerSubtask"])
                if state is not None and state.status == "done":
                    key = selector["outputParameterKey"]
                    if key in state.params:
                        out.params[name] = state.params[key]
                        break
        for name, spec in outputs.get("artifacts", {}).items():
            for selector in spec.get("artifactSelectors", []):
                state = states.get(selector["producerSubtask"])
                if state is not None and state.status == "done":
                    key = selector["outputArtifactKey"]
                    if key in state.artifacts:
                        out.artifacts[name] = state.artifacts[key]
                        break

    # ----- one task ------------------------------------------------------------------------------

    def _task(
        self,
        name: str,
        task: dict[str, Any],
        states: dict[str, TaskState],
        scope_params: dict[str, Any],
        scope_artifacts: dict[str, Any],
        prefix: str,
        suffix: str,
    ) -> TaskState:
        component = self._component(name, task)
        params, artifacts = self._inputs(
            name, task, component, states, scope_params, scope_artifacts
        )
        condition = task.get("triggerPolicy", {}).get("condition")
        if condition:
            try:
                holds = cel.evaluate(condition, params)
            except cel.CelError as exc:
                reason = f"its trigger condition {condition!r} cannot be evaluated: {exc}"
                self._record_failed(name, task, prefix, suffix, reason)
                return TaskState("failed", message=reason)
            if holds is not True:
                reason = f"condition {task.get('taskInfo', {}).get('name', name)} was false"
                self._skip_all(name, task, component, prefix, suffix, reason)
                return TaskState("skipped", message=reason)
        if "dag" in component:
            child = prefix if _CONTROL.match(name) else f"{prefix}{name}/"
            if (
                "iteratorPolicy" in task
                or "parameterIterator" in task
                or "artifactIterator" in task
            ):
                return self._loop(name, task, component, params, artifacts, child, suffix)
            return self._dag(component, params, artifacts, child, suffix)
        try:
            env = self._secret_env(name, component, states, scope_params)
        except EmulationError as exc:
            self._record_failed(name, task, prefix, suffix, str(exc))
            return TaskState("failed", message=str(exc))
        return self._container(name, task, component, params, artifacts, prefix, suffix, env)

    def _secret_env(
        self,
        name: str,
        component: dict[str, Any],
        states: dict[str, TaskState],
        scope: dict[str, Any],
    ) -> dict[str, str]:
        """Kubernetes secrets the task gets as environment variables (kfp-kubernetes
        ``secretAsEnv``): the driver resolves ``secretNameParameter`` in the task's DAG when the
        task starts, then reads each key; here the values come from MLCOMPILE_SECRET_<NAME>."""
        from mlcompile.runtime.secrets import SecretUnavailable, resolve

        config = self.kubernetes.get(component.get("executorLabel", ""), {})
        env: dict[str, str] = {}
        for entry in config.get("secretAsEnv", []):
            spec = entry.get("secretNameParameter")
            secret = entry.get("secretName", "")
            if spec is not None:
                secret = str(self._parameter(name, "secretNameParameter", spec, states, scope))
            for item in entry.get("keyToEnv", []):
                key = item.get("secretKey")
                try:
                    env[item["envVar"]] = resolve(
                        secret, "local", key=None if key in (None, "value") else key
                    )
                except SecretUnavailable as exc:
                    raise EmulationError(f"task {name!r}: {exc}") from None
        return env

    def _component(self, name: str, task: dict[str, Any]) -> dict[str, Any]:
        ref = task.get("componentRef", {}).get("name", "")
        if ref not in self.components:
            raise EmulationError(f"task {name!r} refers to component {ref!r}, which is not defined")
        component: dict[str, Any] = self.components[ref]
        return component

    def _inputs(
        self,
        name: str,
        task: dict[str, Any],
        component: dict[str, Any],
        states: dict[str, TaskState],
        scope_params: dict[str, Any],
        scope_artifacts: dict[str, Any],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        declared = component.get("inputDefinitions", {})
        iterator = task.get("parameterIterator") or task.get("artifactIterator") or {}
        item = iterator.get("itemInput")  # given per iteration
        params: dict[str, Any] = {}
        for key, spec in task.get("inputs", {}).get("parameters", {}).items():
            value = self._parameter(name, key, spec, states, scope_params)
            selector = spec.get("parameterExpressionSelector")
            if selector:
                text = value if isinstance(value, str) else json.dumps(value)
                try:
                    value = cel.evaluate(selector, {}, string_value=text)
                except cel.CelError as exc:
                    raise EmulationError(f"task {name!r} input {key!r}: {exc}") from None
            params[key] = value
        for key, definition in declared.get("parameters", {}).items():
            if key not in params and "defaultValue" in definition:
                params[key] = _typed(definition["defaultValue"], definition.get("parameterType"))
            elif key not in params and not definition.get("isOptional") and key != item:
                raise EmulationError(f"task {name!r} is given no value for its input {key!r}")
        artifacts: dict[str, Any] = {}
        for key, spec in task.get("inputs", {}).get("artifacts", {}).items():
            if "componentInputArtifact" in spec:
                source = spec["componentInputArtifact"]
                if source not in scope_artifacts:
                    raise EmulationError(
                        f"task {name!r} reads the DAG input artifact {source!r}, which it was"
                        " not given"
                    )
                artifacts[key] = scope_artifacts[source]
            elif "taskOutputArtifact" in spec:
                ref = spec["taskOutputArtifact"]
                producer, output = ref["producerTask"], ref["outputArtifactKey"]
                state = states.get(producer)
                if state is None or output not in state.artifacts:
                    raise EmulationError(
                        f"task {name!r} reads output artifact {output!r} of {producer!r},"
                        " which it does not produce"
                    )
                artifacts[key] = state.artifacts[output]
        return params, artifacts

    def _parameter(
        self,
        task_name: str,
        key: str,
        spec: dict[str, Any],
        states: dict[str, TaskState],
        scope: dict[str, Any],
    ) -> Any:
        if "componentInputParameter" in spec:
            source = spec["componentInputParameter"]
            if source not in scope:
                raise EmulationError(
                    f"task {task_name!r} input {key!r} reads the DAG parameter {source!r},"
                    " which it was not given"
                )
            return scope[source]
        if "taskOutputParameter" in spec:
            ref = spec["taskOutputParameter"]
            producer, output = ref["producerTask"], ref["outputParameterKey"]
            state = states.get(producer)
            if state is None or output not in state.params:
                raise EmulationError(
                    f"task {task_name!r} input {key!r} reads output {output!r} of {producer!r},"
                    " which it does not produce"
                )
            return state.params[output]
        if "runtimeValue" in spec:
            return spec["runtimeValue"].get("constant")
        if "taskFinalStatus" in spec:
            # PipelineTaskFinalStatus of the exit handler DAG the final task runs after.
            producer = spec["taskFinalStatus"]["producerTask"]
            state = states.get(producer)
            failed = state is not None and state.status in ("failed", "upstream_failed")
            return {
                "state": "FAILED" if failed else "SUCCEEDED",
                "pipelineJobResourceName": self.job_id,
                "pipelineTaskName": producer,
                "error": {"code": 1, "message": state.message} if failed and state else {},
            }
        raise EmulationError(f"task {task_name!r} input {key!r}: unknown source {sorted(spec)}")

    # ----- loops ---------------------------------------------------------------------------------

    def _loop(
        self,
        name: str,
        task: dict[str, Any],
        component: dict[str, Any],
        params: dict[str, Any],
        artifacts: dict[str, Any],
        prefix: str,
        suffix: str,
    ) -> TaskState:
        iterator = task.get("parameterIterator") or task.get("artifactIterator") or {}
        item_name = iterator.get("itemInput", "")
        items_spec = iterator.get("items", {})
        if "raw" in items_spec:
            items = json.loads(items_spec["raw"])
        else:
            source = items_spec.get("inputParameter") or items_spec.get("inputArtifact")
            items = params.get(source, artifacts.get(source))
        if not isinstance(items, list):
            reason = f"{name} fans out over {json.dumps(items)}, which is not a list"
            return TaskState("failed", message=reason)
        limit = int(task.get("iteratorPolicy", {}).get("parallelismLimit", 0)) or len(items) or 1
        gate = threading.BoundedSemaphore(limit)
        results: list[TaskState | None] = [None] * len(items)

        def iteration(i: int) -> None:
            try:
                scoped = {**params, item_name: items[i]}
                results[i] = self._dag(component, scoped, artifacts, prefix, f"{suffix}[{i}]")
            except Cancelled:
                results[i] = TaskState("interrupted")
            except BaseException as exc:
                results[i] = TaskState("failed", message=f"{type(exc).__name__}: {exc}")
            finally:
                gate.release()

        threads = []
        for i in range(len(items)):
            while not gate.acquire(timeout=0.5):
                if self.session.cancel.is_set():
                    raise Cancelled
            thread = threading.Thread(target=iteration, args=(i,), daemon=True)
            threads.append(thread)
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
                if self.session.cancel.is_set():
                    raise Cancelled
        done = [r for r in results if r is not None]
        failed = [i for i, r in enumerate(done) if r.status != "done"]
        out = TaskState("failed" if failed else "done")
        if failed:
            out.message = f"iteration(s) {', '.join(map(str, failed))} of {name} did not succeed"
        dag_outputs = component["dag"].get("outputs", {})
        for key in dag_outputs.get("parameters", {}):
            out.params[key] = [r.params.get(key) for r in done if key in r.params]
        for key in dag_outputs.get("artifacts", {}):
            out.artifacts[key] = [
                a for r in done if key in r.artifacts for a in _as_list(r.artifacts[key])
            ]
        return out

    # ----- container executions ------------------------------------------------------------------

    def _container(
        self,
        name: str,
        task: dict[str, Any],
        component: dict[str, Any],
        params: dict[str, Any],
        artifacts: dict[str, Any],
        prefix: str,
        suffix: str,
        env: dict[str, str] | None = None,
    ) -> TaskState:
        display = prefix + _display(task.get("taskInfo", {}).get("name", name)) + suffix
        label = component.get("executorLabel", "")
        executor = self.executors.get(label)
        if executor is None:
            raise EmulationError(f"task {name!r} uses executor {label!r}, which is not defined")
        caching = bool(task.get("cachingOptions", {}).get("enableCache"))
        identity = {
            "executor": executor,
            "component": {k: v for k, v in component.items() if k != "executorLabel"},
            "params": params,
            "artifacts": {
                k: [{"sha256": a.sha256, "type": a.type} for a in _as_list(v)]
                for k, v in artifacts.items()
            },
        }
        key = content_hash({"kfp-cache": 1, **identity}) if caching else None
        code = content_hash(executor)
        flat = {k: v for k, v in artifacts.items() if v}
        session = self.session
        step_id = session.call(
            lambda: session.start_step(
                display, name, label, _kind(executor), code, params, flat, key
            )
        )
        if key is not None:
            hit = session.call(lambda: session.cached(key))
            if hit is not None:
                session.call(lambda: session.finish_cached(step_id, display, hit))
                return TaskState("done", dict(hit.params), dict(hit.artifacts))
        started = time.monotonic()
        outcome = self._attempts(
            display, name, task, component, executor, params, artifacts, env or {}, step_id
        )
        stored = {n: (a, _size(Path(a.path))) for n, a in outcome.artifacts.items()}
        session.call(
            lambda: session.finish_step(
                step_id,
                display,
                outcome.status,
                attempts=outcome.attempts,
                message=outcome.message,
                params=outcome.params,
                artifacts=stored,
                key=key,
                seconds=time.monotonic() - started,
            )
        )
        return TaskState(outcome.status, outcome.params, dict(outcome.artifacts), outcome.message)

    def _attempts(
        self,
        display: str,
        name: str,
        task: dict[str, Any],
        component: dict[str, Any],
        executor: dict[str, Any],
        params: dict[str, Any],
        artifacts: dict[str, Any],
        env: dict[str, str],
        step_id: int,
    ) -> Outcome:
        policy = task.get("retryPolicy", {})
        retries = int(policy.get("maxRetryCount", 0))
        base = _seconds(policy.get("backoffDuration", "0s"))
        factor = float(policy.get("backoffFactor", 2.0))
        cap = _seconds(policy.get("backoffMaxDuration", "3600s"))
        log = self.session.log_path(display)
        outcome = Outcome("failed")
        for attempt in range(1, retries + 2):
            if attempt > 1:
                wait = min(base * factor ** (attempt - 2), cap) * self.backoff_scale
                with log.open("a", encoding="utf-8") as f:
                    f.write(f"--- attempt {attempt} after {wait:g}s: {outcome.message}\n")
                self.session.sleep(wait)
            folder = self.session.scratch(display) / f"attempt-{attempt}"
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            execution = Execution(
                display,
                name,
                component,
                executor,
                params,
                artifacts,
                folder,
                log,
                env=env,
                step_id=step_id,
            )
            outcome = self._execute(execution)
            outcome.attempts = attempt
            if outcome.status == "done":
                return outcome
        if retries:
            outcome.message += f" (after {retries + 1} attempts)"
        return outcome

    def _execute(self, execution: Execution) -> Outcome:
        executor = execution.executor
        if "importer" in executor:
            return self._importer(execution)
        container = executor.get("container")
        if container is None:
            raise EmulationError(f"task {execution.task_name!r} has an executor of no known kind")
        outputs = execution.component.get("outputDefinitions", {})
        out_dir = execution.folder / "outputs"
        for name in outputs.get("artifacts", {}):
            path = out_dir / "artifacts" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            execution.output_uris[name] = str(path)
        for name in outputs.get("parameters", {}):
            path = out_dir / "parameters" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            execution.output_params[name] = str(path)
        execution.output_file = str(out_dir / "executor_output.json")
        command = [*container.get("command", []), *container.get("args", [])]
        if self.gcpc is not None and _is_gcpc(command):
            return self.gcpc(self, execution)
        try:
            exit_ = self.launch(
                execution,
                # An image a run chooses is a placeholder of an input (set_container_image).
                self.substitute(str(container.get("image", "")), execution),
                self.fill(container.get("command", []), execution),
                self.fill(container.get("args", []), execution),
                container.get("env", []),
            )
        except (ImageUnavailable, NoStandIn) as exc:
            return Outcome("failed", str(exc))
        if exit_.timed_out:
            return Outcome("failed", "timed out and was stopped")
        if exit_.code != 0:
            return Outcome("failed", f"exited with code {exit_.code}{_tail(execution.log)}")
        return self.collect(execution)

    def collect(self, execution: Execution) -> Outcome:
        """Read back what an execution wrote: the executor output, output files, artifacts."""
        outputs = execution.component.get("outputDefinitions", {})
        written: dict[str, Any] = {}
        output_file = Path(execution.output_file)
        if output_file.exists():
            try:
                written = json.loads(output_file.read_text(encoding="utf-8"))
            except ValueError as exc:
                return Outcome("failed", f"wrote an executor output that is not JSON: {exc}")
        params: dict[str, Any] = {}
        for name, definition in outputs.get("parameters", {}).items():
            if name in written.get("parameterValues", {}):
                params[name] = written["parameterValues"][name]
                continue
            path = Path(execution.output_params[name])
            if not path.exists():
                return Outcome("failed", f"it did not write its output parameter {name!r}")
            params[name] = _parse_output(path.read_text(encoding="utf-8"), definition)
        artifacts: dict[str, ArtifactValue] = {}
        for name, definition in outputs.get("artifacts", {}).items():
            entry = written.get("artifacts", {}).get(name, {}).get("artifacts", [{}])
            first = entry[0] if entry else {}
            metadata = dict(first.get("metadata") or {})
            # A step may move its output (KFP records the URI its executor output names).
            moved = self.local_path(str(first.get("uri") or execution.output_uris[name]))
            path = moved or Path(execution.output_uris[name])
            if not path.exists():
                title = definition.get("artifactType", {}).get("schemaTitle", "")
                if title != "system.Metrics":
                    return Outcome(
                        "failed", f"it did not write its output artifact {name!r} at {path.name}"
                    )
                path.write_text(json.dumps(_metrics_of(metadata)), encoding="utf-8")
            artifacts[name] = self.store_artifact(path, definition, metadata)
            for uri in {str(execution.output_uris[name]), str(first.get("uri") or "")} - {""}:
                self.stored[uri] = Path(artifacts[name].path)
        return Outcome("done", params=params, artifacts=artifacts)

    def store_artifact(
        self, path: Path, definition: dict[str, Any], metadata: dict[str, Any]
    ) -> ArtifactValue:
        store = self.session.store
        sha, _ = store.ingest(path)
        title = definition.get("artifactType", {}).get("schemaTitle", "system.Artifact")
        return ArtifactValue(
            sha, _ir_type(title), str(store.path_of(sha)), store.uri_of(sha), metadata
        )

    def _importer(self, execution: Execution) -> Outcome:
        spec = execution.executor["importer"]
        uri_spec = spec.get("artifactUri", {})
        uri = uri_spec.get("constant")
        if uri is None and "runtimeParameter" in uri_spec:
            uri = execution.params.get(uri_spec["runtimeParameter"])
        metadata = dict(spec.get("metadata") or {})
        folder = execution.folder / "imported"
        local = self.local_path(str(uri))
        if local is not None and local.exists():
            target = folder / local.name
            folder.mkdir(parents=True, exist_ok=True)
            if local.is_dir():
                shutil.copytree(local, target)
            else:
                shutil.copyfile(local, target)
        elif spec.get("typeSchema", {}).get("schemaTitle", "").startswith("system."):
            # import_artifact of data: the store's stand-in for buckets must hold it.
            return Outcome(
                "failed",
                f"nothing at {uri}: the emulator reads cloud buckets from"
                f" {self.session.store.root / 'buckets'}/<bucket>/<key>; copy the data there",
            )
        else:
            # A resource outside any store (a Vertex endpoint): the artifact is its reference.
            target = folder / "reference.json"
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps({"uri": uri, "metadata": metadata}, sort_keys=True))
        definition = {"artifactType": spec.get("typeSchema", {})}
        outputs = execution.component.get("outputDefinitions", {}).get("artifacts", {})
        name = next(iter(outputs), "artifact")
        return Outcome("done", artifacts={name: self.store_artifact(target, definition, metadata)})

    # ----- placeholders ---------------------------------------------------------------------

    def fill(self, argv: list[Any], execution: Execution, escape: int = 0) -> list[str]:
        out: list[str] = []
        for arg in argv:
            out.extend(self._expand(arg, execution))
        return out

    def _expand(self, arg: Any, execution: Execution) -> list[str]:
        if isinstance(arg, str) and arg.startswith(('{"Concat"', '{"IfPresent"')):
            with contextlib.suppress(ValueError):
                arg = json.loads(arg)
        if isinstance(arg, dict):
            if "Concat" in arg:
                return ["".join("".join(self._expand(p, execution)) for p in arg["Concat"])]
            if "IfPresent" in arg:
                spec = arg["IfPresent"]
                present = spec["InputName"] in execution.params or spec["InputName"] in {
                    k for k, v in execution.artifacts.items() if v
                }
                branch = spec.get("Then" if present else "Else", [])
                branch = branch if isinstance(branch, list) else [branch]
                return [s for p in branch for s in self._expand(p, execution)]
            raise EmulationError(f"task {execution.task_name!r}: unknown placeholder {arg}")
        return [self.substitute(str(arg), execution)]

    def substitute(self, text: str, execution: Execution, depth: int = 0) -> str:
        """One pass over ``text``. A parameter's value may itself hold placeholders (GCPC's
        worker pool specs), which are filled in where the value lands; what a placeholder
        produces is never scanned again (the executor input quotes those values verbatim)."""
        return _PLACEHOLDER.sub(lambda m: self._value(m.group(0), execution, depth), text)

    def _value(self, placeholder: str, execution: Execution, depth: int = 0) -> str:
        body = placeholder[3:-2].lstrip(".")
        if body == "":
            return json.dumps(execution.executor_input(), sort_keys=True)
        escaped = re.fullmatch(r"json_escape\[(\d+)\]", body)
        if escaped:
            text = json.dumps(execution.executor_input(), sort_keys=True)
            for _ in range(int(escaped.group(1))):
                text = json.dumps(text)[1:-1]
            return text
        simple = {
            "pipeline_job_name": f"{self.spec.get('pipelineInfo', {}).get('name', '')}-{self.job_id}",
            "pipeline_job_uuid": self.job_id,
            "pipeline_task_name": execution.task_name,
            "pipeline_task_uuid": f"{self.job_id}-{execution.task_name}",
            # A run may override the pipeline root; here it is a local folder, which the step
            # runtime uses as a path (artifacts are ingested into the store afterwards).
            "pipeline_root": str(self.session.scratch("_pipeline_root")),
            "pipeline_google_cloud_project_id": self.project,
            "pipeline_google_cloud_location": self.location,
            "pipeline_persistent_resource_id": "",  # none here: the job runs on this machine
            "pipeline_job_create_time_utc": "",
            "pipeline_job_schedule_time_utc": "",
        }
        if body in simple:
            return simple[body]
        match = re.fullmatch(r"(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\](.*)", body)
        if match is None:
            raise EmulationError(f"task {execution.task_name!r}: unknown placeholder {placeholder}")
        side, kind, name, rest = match.groups()
        if side == "inputs" and kind == "parameters":
            if name not in execution.params:
                raise EmulationError(
                    f"task {execution.task_name!r}: {placeholder} names no input of the task"
                )
            value = execution.params[name]
            text = value if isinstance(value, str) else _text(value)
            return self.substitute(text, execution, depth + 1) if depth < 3 else text
        if side == "outputs" and kind == "parameters":
            return execution.output_params[name]
        if side == "outputs":
            if name not in execution.output_uris:
                raise EmulationError(f"task {execution.task_name!r}: {placeholder} names no output")
            uri = execution.output_uris[name]
            return uri if rest in (".path", ".uri") else ""
        artifact = execution.artifacts.get(name)
        if artifact is None:
            raise EmulationError(
                f"task {execution.task_name!r}: {placeholder} names no input artifact"
            )
        first = _as_list(artifact)[0]
        if rest == ".path":
            return str(first.path)
        if rest == ".uri":
            return str(first.path)
        meta = re.fullmatch(r"\.metadata\['([^']+)'\]", rest)
        if meta:
            value = first.metadata.get(meta.group(1), "")
            return value if isinstance(value, str) else _text(value)
        raise EmulationError(f"task {execution.task_name!r}: unknown placeholder {placeholder}")

    # ----- the machine -------------------------------------------------------------------------

    def launch(
        self,
        execution: Execution,
        image: str,
        command: list[str],
        args: list[str],
        env: list[dict[str, Any]],
    ) -> Exit:
        """Run a container's command and arguments: in ``image`` where this machine can run it
        (the store mounted at its own path, so every path in the arguments holds; no command
        runs the image's entrypoint), else here."""
        session = self.session
        if not session.containers.usable(image):
            if not command:
                # The image's own entrypoint (a training image): a local command stands in for
                # it (raises NoStandIn when none is given).
                command = stand_in(image, execution.task_name)
            host_env = {**self.step_env({"env": env}), **execution.env}
            return session.run_process(
                [*command, *args], env=host_env, cwd=execution.folder, log=execution.log
            )
        session.call(lambda: session.record_image(execution.step_id, image))
        store = str(session.store.root)
        job = Container(
            image,
            tuple(command),
            tuple(args),
            {**_PLATFORM_ENV, **_spec_env(env), **execution.env},
            (Mount(store, store),),
            str(execution.folder),
        )
        return session.run_process(
            [], env={}, cwd=execution.folder, log=execution.log, container=job
        )

    def step_env(self, container: dict[str, Any]) -> dict[str, str]:
        """The step's environment on this host: ``python3`` is this interpreter (the image's
        Python), with the image's packages preinstalled (the step skips its own pip install)."""
        shim = self.session.host_bin()
        return {
            **os.environ,
            "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}",
            **_PLATFORM_ENV,
            **_spec_env(container.get("env", [])),
        }

    def local_path(self, uri: str) -> Path | None:
        """A file the compiled build holds (a code bundle) or a local folder standing in for
        the object store; None for a URI of neither kind (a service's resource name)."""
        if uri in self.stored:
            return self.stored[uri]
        # What `deploy` uploads: a build's file at the same path under the pipeline root (the
        # code bundle, ``code/<sha256>.tar.gz``); without a root, KFP uses the cluster's.
        root = (self.root_uri or CLUSTER_DEFAULT_ROOT).rstrip("/") + "/"
        if uri.startswith(root):
            built = self.build_dir / uri[len(root) :]
            if built.is_file():
                return built
        for scheme in ("gs://", "s3://", "minio://"):
            if uri.startswith(scheme):
                rest = uri[len(scheme) :]
                _, _, key = rest.partition("/")
                for candidate in (self.build_dir / key, self.build_dir / Path(key).name):
                    if candidate.exists():
                        return candidate
                return self.session.store.root / "buckets" / rest
        if uri.startswith("file://"):
            return Path(uri[len("file://") :])
        if uri.startswith("/"):
            return Path(uri)
        return None

    def _record_unrun(
        self, name: str, task: dict[str, Any], prefix: str, suffix: str, status: str, reason: str
    ) -> None:
        component = self.components.get(task.get("componentRef", {}).get("name", ""), {})
        if "dag" in component:
            self._skip_all(name, task, component, prefix, suffix, reason, status)
            return
        display = prefix + _display(task.get("taskInfo", {}).get("name", name)) + suffix
        ref = task.get("componentRef", {}).get("name", "")
        self.session.call(lambda: self.session.unrun(display, name, ref, status, reason))

    def _record_failed(
        self, name: str, task: dict[str, Any], prefix: str, suffix: str, reason: str
    ) -> None:
        display = prefix + _display(task.get("taskInfo", {}).get("name", name)) + suffix
        ref = task.get("componentRef", {}).get("name", "")
        self.session.call(lambda: self.session.unrun(display, name, ref, "failed", reason))

    def _skip_all(
        self,
        name: str,
        task: dict[str, Any],
        component: dict[str, Any],
        prefix: str,
        suffix: str,
        reason: str,
        status: str = "skipped",
    ) -> None:
        """A task that does not run: itself, or every container task of its DAG."""
        if "dag" not in component:
            self._record_unrun(name, task, prefix, suffix, status, reason)
            return
        child = prefix if _CONTROL.match(name) else f"{prefix}{name}/"
        for sub, sub_task in component["dag"].get("tasks", {}).items():
            sub_component = self.components.get(
                sub_task.get("componentRef", {}).get("name", ""), {}
            )
            self._skip_all(sub, sub_task, sub_component, child, suffix, reason, status)


def _upstream(task: dict[str, Any]) -> list[str]:
    names = list(task.get("dependentTasks", []))
    inputs = task.get("inputs", {})
    for spec in inputs.get("parameters", {}).values():
        producer = spec.get("taskOutputParameter", {}).get("producerTask")
        if producer and producer not in names:
            names.append(producer)
    for spec in inputs.get("artifacts", {}).values():
        producer = spec.get("taskOutputArtifact", {}).get("producerTask")
        if producer and producer not in names:
            names.append(producer)
    return names


def _display(name: str) -> str:
    return name


def _kind(executor: dict[str, Any]) -> str:
    return "importer" if "importer" in executor else "container"


def _is_gcpc(command: list[Any]) -> bool:
    return any(
        isinstance(part, str) and part.startswith("google_cloud_pipeline_components.")
        for part in command
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _artifact_json(name: str, artifact: ArtifactValue) -> dict[str, Any]:
    return {
        "name": name,
        "uri": artifact.path,
        "metadata": artifact.metadata,
        "type": {"schemaTitle": _schema_title(artifact.type)},
    }


_TITLES = {
    "Dataset": "system.Dataset",
    "Model": "system.Model",
    "Metrics": "system.Metrics",
    "Artifact": "system.Artifact",
    "HTML": "system.HTML",
    "Markdown": "system.Markdown",
}


def _schema_title(ir_type: str) -> str:
    return _TITLES.get(ir_type, ir_type)


def _ir_type(title: str) -> str:
    for ir_type, known in _TITLES.items():
        if known == title:
            return ir_type
    return title


def _typed(value: Any, parameter_type: str | None) -> Any:
    """Protobuf JSON carries every number as a double: an integer parameter is an int again."""
    if parameter_type == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _parse_output(text: str, definition: dict[str, Any]) -> Any:
    kind = definition.get("parameterType", "STRING")
    if kind == "STRING":
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return _typed(value, kind)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


#: What the emulated platform sets around a step: no Kubernetes API here, so a KServe deploy
#: writes its InferenceService only.
_PLATFORM_ENV = {"MLCOMPILE_KSERVE_DRY_RUN": "1", "PYTHONUNBUFFERED": "1"}


def _spec_env(items: list[dict[str, Any]]) -> dict[str, str]:
    """A container's ``env`` list as a mapping, and the local secret store's variables, which
    stand in for the platform's secret manager."""
    env = {k: v for k, v in os.environ.items() if k.startswith("MLCOMPILE_SECRET_")}
    env.update({str(item["name"]): str(item.get("value", "")) for item in items})
    return env


def _seconds(duration: Any) -> float:
    text = str(duration)
    return float(text[:-1]) if text.endswith("s") else float(text or 0)


def _metrics_of(metadata: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metadata.items() if isinstance(v, int | float)}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _tail(log: Path, lines: int = 12) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    kept = [line for line in text if line.strip()][-lines:]
    return ("\n" + "\n".join("  | " + line for line in kept)) if kept else ""
