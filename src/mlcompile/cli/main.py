"""``mlcompile``: check, compile, generate infra for, and run ML pipelines.

Exit codes: 0 success, 2 a problem in the user's input (diagnostics printed), 1 an internal
error or a failed deployment.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from mlcompile.errors import MlcompileError, UserError

app = typer.Typer(
    name="mlcompile",
    help="Write an ML pipeline once in Python; compile it to Kubeflow, SageMaker and Vertex AI, "
    "generate its Pulumi stacks, and run it locally.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich formatting would import markdown and syntax highlighting (0.3 s).
    rich_markup_mode=None,
)

PipelineArg = Annotated[str, typer.Argument(help="path/to/file.py or path/to/file.py:function")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
TargetOpt = Annotated[
    str, typer.Option("--target", "-t", help="A profile in ./targets/ or a YAML path.")
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Output folder.")]


def _guard(as_json: bool, action: Callable[[], int | None]) -> None:
    """Run a command; turn our errors into diagnostics and exit codes, never tracebacks."""
    from mlcompile.cli import report

    try:
        code = action() or 0
    except UserError as err:
        if as_json:
            report.print_json({"ok": False, "diagnostics": [d.to_json() for d in err.diagnostics]})
        else:
            report.print_diagnostics(err.diagnostics, report.project_root)
        code = 2
    except MlcompileError as err:
        print(f"error: {err}", file=sys.stderr)
        code = err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except Exception as err:
        if os.environ.get("MLCOMPILE_DEBUG"):
            raise
        print(
            f"internal error: {type(err).__name__}: {err}\n"
            "This is a bug in mlcompile. Rerun with MLCOMPILE_DEBUG=1 for the traceback and report it.",
            file=sys.stderr,
        )
        code = 1
    raise typer.Exit(code)


@app.command()
def check(
    pipeline: PipelineArg,
    target: Annotated[
        list[str] | None,
        typer.Option("--target", "-t", help="Profiles to check against (repeatable)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate a pipeline and show, per profile, how each feature it uses is supported."""
    from mlcompile.cli import commands

    _guard(as_json, lambda: commands.check(pipeline, target or [], as_json))


@app.command("ir")
def ir_command(pipeline: PipelineArg, as_json: JsonOpt = False) -> None:
    """Print the pipeline's canonical IR JSON."""
    from mlcompile.cli import commands

    _guard(as_json, lambda: commands.print_ir(pipeline))


@app.command("compile")
def compile_command(
    pipeline: PipelineArg, target: TargetOpt, out: OutOpt = None, as_json: JsonOpt = False
) -> None:
    """Compile a pipeline into the platform's native spec (default build/<profile>/)."""
    from mlcompile.cli import commands

    _guard(as_json, lambda: commands.compile_pipeline(pipeline, target, out, as_json))


@app.command()
def infra(
    pipeline: PipelineArg, target: TargetOpt, out: OutOpt = None, as_json: JsonOpt = False
) -> None:
    """Generate the Pulumi project the pipeline needs (default build/<profile>/infra/)."""
    from mlcompile.cli import commands

    _guard(as_json, lambda: commands.generate_infra(pipeline, target, out, as_json))


@app.command()
def deploy(
    pipeline: PipelineArg,
    target: TargetOpt,
    out: OutOpt = None,
    infra: Annotated[
        bool, typer.Option("--infra/--no-infra", help="Provision the stack with Pulumi first.")
    ] = True,
    start: Annotated[
        bool, typer.Option("--start/--no-start", help="Start a run after deploying.")
    ] = True,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE for the run (repeatable).")
    ] = None,
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="AWS API endpoint (a local stand-in).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compile, provision the stack, upload and upsert the pipeline, and start a run."""
    from mlcompile.cli import commands

    _guard(
        as_json,
        lambda: commands.deploy_pipeline(
            pipeline,
            target,
            out,
            infra=infra,
            start=start,
            params=param or [],
            endpoint_url=endpoint_url,
            as_json=as_json,
        ),
    )


StoreOpt = Annotated[Path, typer.Option("--store", help="Artifact store and lineage folder.")]


@app.command()
def run(
    pipeline: PipelineArg,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE (repeatable).")
    ] = None,
    store: StoreOpt = Path(".mlcompile"),
    workers: Annotated[int, typer.Option("--workers", help="Steps run at once.")] = 2,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", "-t", help="Compile for PROFILE and run the compiled spec locally."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline on this machine, with caching and lineage."""
    if target is not None:
        from mlcompile.emulate.run import run_target

        _guard(as_json, lambda: run_target(pipeline, target, param or [], store, workers, as_json))
        return
    from mlcompile.local import cli as local

    _guard(as_json, lambda: local.run_local(pipeline, param or [], store, workers, as_json))


@app.command()
def runs(store: StoreOpt = Path(".mlcompile"), as_json: JsonOpt = False) -> None:
    """List local runs."""
    from mlcompile.local import cli as local

    _guard(as_json, lambda: local.list_runs(store, as_json))


@app.command()
def lineage(
    ref: Annotated[
        str,
        typer.Argument(help="A run id, an artifact sha256 or URI, or model:<name>[:<version>]."),
    ],
    store: StoreOpt = Path(".mlcompile"),
    as_json: JsonOpt = False,
) -> None:
    """Walk back from an artifact, model version or run to the data, code and parameters behind it."""
    from mlcompile.local import cli as local

    _guard(as_json, lambda: local.show_lineage(ref, store, as_json))


@app.command()
def serve(
    endpoint: Annotated[str, typer.Argument(help="An endpoint a local run deployed.")],
    store: StoreOpt = Path(".mlcompile"),
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (0 picks a free one).")
    ] = 8080,
) -> None:
    """Serve a locally deployed model on 127.0.0.1 (POST /predict)."""
    from mlcompile.local import cli as local

    _guard(False, lambda: local.serve_endpoint(endpoint, store, port))


@app.command()
def schema(what: Annotated[str, typer.Argument(help="profile or ir")] = "profile") -> None:
    """Print the JSON schema of a deployment profile or of the IR."""
    from mlcompile.cli import commands

    _guard(False, lambda: commands.print_schema(what))


def main() -> None:
    try:
        app()
    finally:
        # The command has answered; a Ctrl-C while the interpreter exits must not turn its exit
        # code into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    main()
