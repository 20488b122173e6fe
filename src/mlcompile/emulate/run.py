"""``mlcompile run PIPELINE --target PROFILE``: compile for the profile, then execute the compiled
files on this machine with the platform's semantics, recorded like an embedded run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from mlcompile.emulate.containers import MODES, Containers
from mlcompile.emulate.session import Session
from mlcompile.local.runner import RunResult


def run_target(
    spec: str,
    target: str,
    params: list[str],
    store: Path,
    workers: int,
    as_json: bool,
    *,
    backoff_scale: float = 1.0,
    containers: str = "auto",
) -> int:
    from mlcompile.cli.commands import compile_to
    from mlcompile.local import sigint
    from mlcompile.local.cli import finish_run
    from mlcompile.local.progress import reporter_for
    from mlcompile.params import parse_params

    if containers not in MODES:
        from mlcompile.errors import Diagnostic, ValidationError

        raise ValidationError(
            Diagnostic(
                "MLC702",
                f"--containers {containers!r} is not a mode",
                None,
                f"use one of {', '.join(MODES)}",
            )
        )
    store = store.resolve()
    pipeline, profile, root, build, manifest = compile_to(
        spec, target, store / "builds" / target_dir(target)
    )
    values = parse_params(pipeline, params)
    sigint.ignore_after_runs()  # this process reports the run as recorded, then exits
    result = execute_build(
        build,
        manifest,
        values,
        store=store,
        root=root,
        spec=spec,
        workers=workers,
        reporter=reporter_for(f"{pipeline.name} on {profile.name}", as_json),
        backoff_scale=backoff_scale,
        containers=Containers(containers),
    )
    return finish_run(result, as_json)


def target_dir(target: str) -> str:
    return Path(target).stem if target.endswith((".yaml", ".yml")) else target


def execute_build(
    build: Path,
    manifest: dict[str, Any],
    params: dict[str, Any],
    *,
    store: Path,
    root: Path,
    spec: str,
    workers: int = 2,
    reporter: Any = None,
    backoff_scale: float = 1.0,
    containers: Containers | None = None,
) -> RunResult:
    """Execute a compiled build folder (``compile``'s output) with the platform's semantics."""
    platform = manifest["platform"]
    spec_file = build / manifest["spec"]
    session = Session(
        manifest.get("pipeline", spec_file.stem),
        spec,
        root,
        store,
        manifest["ir_hash"],
        params,
        reporter,
        workers,
        containers or Containers("never"),
    )
    if platform in ("kubeflow", "vertex"):
        from mlcompile.emulate.kfp_ir import KfpRun

        project = location = ""
        gcpc = None
        kubernetes: dict[str, Any] = {}
        if platform == "vertex":
            from mlcompile.emulate import gcpc as vertex_ops

            job = json.loads(spec_file.read_text(encoding="utf-8"))
            ir_spec = job["pipelineSpec"]
            given = job.get("runtimeConfig", {}).get("parameterValues", {})
            params = {**given, **params}
            gcpc = vertex_ops.run_operation
            project, location = vertex_ops.project_and_location(job)
        else:
            docs = list(yaml.safe_load_all(spec_file.read_text(encoding="utf-8")))
            ir_spec = docs[0]
            platform_doc = docs[1] if len(docs) > 1 else {}
            kubernetes = (
                platform_doc.get("platforms", {})
                .get("kubernetes", {})
                .get("deploymentSpec", {})
                .get("executors", {})
            )
        kfp = KfpRun(
            session,
            ir_spec,
            params,
            build,
            gcpc=gcpc,
            backoff_scale=backoff_scale,
            project=project,
            location=location,
            kubernetes=kubernetes,
        )
        return session.execute(kfp.walk)
    if platform == "sagemaker":
        from mlcompile.emulate.sagemaker import SageMakerRun

        definition = json.loads(spec_file.read_text(encoding="utf-8"))
        sm = SageMakerRun(session, definition, params, build, backoff_scale=backoff_scale)
        return session.execute(sm.walk)
    from mlcompile.errors import Diagnostic, ValidationError

    raise ValidationError(
        Diagnostic(
            "MLC701",
            f"`run --target` has no emulator for platform {platform!r}",
            None,
            "run it with `mlcompile run` (the embedded runner), or on the platform itself",
        )
    )
