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
from typing import Annotated, Literal

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


def _no_type_beside_arguments() -> None:
    """Typer prints a Python type beside each argument (``PIPELINE <str>``); the metavar says
    what to give, so help shows that alone, as it does for options."""
    from typer.core import TyperArgument

    def display_type_rich(self: TyperArgument, ctx: object) -> None:
        return None

    setattr(TyperArgument, "display_type_rich", display_type_rich)  # noqa: B010


_no_type_beside_arguments()

PipelineArg = Annotated[
    str, typer.Argument(metavar="PIPELINE", help="path/to/file.py or path/to/file.py:function")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout.")]
TargetOpt = Annotated[
    str,
    typer.Option(
        "--target", "-t", metavar="PROFILE", help="A profile in ./targets/ or a YAML path."
    ),
]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", metavar="DIR", help="Output folder.")]


def _print_version(value: bool) -> None:
    if value:
        from mlcompile import __version__

        print(f"mlcompile {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Write an ML pipeline once in Python; compile it to Kubeflow, SageMaker and Vertex AI,
    generate its Pulumi stacks, and run it locally."""


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
        if as_json:  # machines get the failure on stdout, as they get a success
            report.print_json({"ok": False, "error": str(err), "exit_code": code})
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except ImportError as err:
        from mlcompile.cli.extras import missing_extra

        diagnostic = missing_extra(err)
        if diagnostic is None:
            _internal(err)
            code = 1
        else:
            if as_json:
                report.print_json({"ok": False, "diagnostics": [diagnostic.to_json()]})
            else:
                report.print_diagnostics([diagnostic])
            code = 2
    except Exception as err:
        _internal(err)
        code = 1
    raise typer.Exit(code)


def _internal(err: Exception) -> None:
    if os.environ.get("MLCOMPILE_DEBUG"):
        raise err
    print(
        f"internal error: {type(err).__name__}: {err}\n"
        "This is a bug in mlcompile. Rerun with MLCOMPILE_DEBUG=1 for the traceback and report it.",
        file=sys.stderr,
    )


@app.command()
def check(
    pipeline: PipelineArg,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target", "-t", metavar="PROFILE", help="Profiles to check against (repeatable)."
        ),
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


@app.command("images")
def images_command(
    pipeline: PipelineArg,
    target: TargetOpt,
    out: OutOpt = None,
    build: Annotated[
        bool,
        typer.Option("--build/--no-build", help="Build and push, or only write the contexts."),
    ] = True,
    tested: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Promote: copy the images a tested build recorded (its images folder) to this"
            " target's registry by digest, instead of building.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the step images (one per environment), push them, and record their digests."""
    from mlcompile.images import command

    _guard(as_json, lambda: command.run(pipeline, target, out, build, as_json, tested))


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
        list[str] | None,
        typer.Option(
            "--param", "-p", metavar="NAME=VALUE", help="A parameter of the run (repeatable)."
        ),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", metavar="URL", help="AWS API endpoint (a local stand-in)."),
    ] = None,
    wait: Annotated[
        int | None,
        typer.Option(
            "--wait",
            metavar="SECONDS",
            min=1,
            help="Wait up to SECONDS for the started run to end; exit 1 unless it succeeded.",
        ),
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
            wait=wait,
        ),
    )


@app.command("report")
def report_command(
    pipeline: PipelineArg,
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target", "-t", metavar="PROFILE", help="Profiles to show side by side (repeatable)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="The HTML file (default build/report.html)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write one self-contained HTML page: the DAG and how each profile maps every step."""
    from mlcompile.cli import commands

    _guard(as_json, lambda: commands.write_report(pipeline, target or [], out, as_json))


StoreOpt = Annotated[
    Path, typer.Option("--store", metavar="DIR", help="Artifact store and lineage folder.")
]


@app.command()
def run(
    pipeline: PipelineArg,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", metavar="NAME=VALUE", help="A pipeline parameter (repeatable)."
        ),
    ] = None,
    store: StoreOpt = Path(".mlcompile"),
    workers: Annotated[int, typer.Option("--workers", metavar="N", help="Steps run at once.")] = 2,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            "-t",
            metavar="PROFILE",
            help="Compile for PROFILE and run the compiled spec locally.",
        ),
    ] = None,
    containers: Annotated[
        str,
        typer.Option(
            "--containers",
            metavar="WHEN",
            help="With --target: run each job in its image: auto (when podman or docker has"
            " it), require, or never.",
        ),
    ] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Run a pipeline on this machine, with caching and lineage."""
    if target is not None:
        from mlcompile.emulate.run import run_target

        _guard(
            as_json,
            lambda: run_target(
                pipeline, target, param or [], store, workers, as_json, containers=containers
            ),
        )
        return
    from mlcompile.local import cli as local

    _guard(as_json, lambda: local.run_local(pipeline, param or [], store, workers, as_json))


@app.command()
def runs(
    run_id: Annotated[
        str | None, typer.Argument(metavar="RUN", help="A run id: show that run.")
    ] = None,
    store: StoreOpt = Path(".mlcompile"),
    html: Annotated[
        bool, typer.Option("--html", help="Write the run as a self-contained HTML page.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", metavar="FILE", help="The page's file (default STORE/reports/RUN.html)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List local runs; with RUN, show one (--html: its DAG, timeline and lineage as a page)."""
    from mlcompile.local import cli as local

    if run_id is None and not html:
        _guard(as_json, lambda: local.list_runs(store, as_json))
    elif run_id is not None and not html:
        shown = run_id
        _guard(as_json, lambda: local.show_lineage(shown, store, as_json))
    else:
        _guard(as_json, lambda: local.run_page(run_id, store, out, as_json))


@app.command()
def lineage(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF", help="A run id, an artifact sha256 or URI, or model:NAME[:VERSION]."
        ),
    ],
    store: StoreOpt = Path(".mlcompile"),
    as_json: JsonOpt = False,
) -> None:
    """Walk back from an artifact, model version or run to the data, code and parameters behind it."""
    from mlcompile.local import cli as local

    _guard(as_json, lambda: local.show_lineage(ref, store, as_json))


@app.command()
def serve(
    endpoint: Annotated[
        str, typer.Argument(metavar="ENDPOINT", help="An endpoint a local run deployed.")
    ],
    store: StoreOpt = Path(".mlcompile"),
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", help="Port on 127.0.0.1 (0 picks a free one).")
    ] = 8080,
    as_json: JsonOpt = False,
) -> None:
    """Serve a locally deployed model on 127.0.0.1 (POST /predict)."""
    from mlcompile.local import cli as local

    _guard(as_json, lambda: local.serve_endpoint(endpoint, store, port, as_json))


@app.command("ci")
def ci_command(
    pipelines: Annotated[
        list[str], typer.Argument(help="Pipelines the workflows check, build and deploy.")
    ],
    target: Annotated[
        list[str], typer.Option("--target", "-t", help="Profiles to build and deploy (repeatable).")
    ],
    provider: Annotated[
        str | None, typer.Option("--provider", help="github or gitlab (default: the profiles').")
    ] = None,
    repository: Annotated[
        str | None, typer.Option("--repository", help="owner/name the clouds trust.")
    ] = None,
    branch: Annotated[str | None, typer.Option("--branch", help="The main branch.")] = None,
    out: OutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the CI workflows: check and diff pull requests, deploy merges to dev, promote tags."""
    from mlcompile.ci.command import write_ci

    _guard(
        as_json,
        lambda: write_ci(
            pipelines,
            target,
            provider=_provider(provider),
            repository=repository,
            branch=branch,
            out=out,
            as_json=as_json,
        ),
    )


def _provider(name: str | None) -> Literal["github", "gitlab"] | None:
    from mlcompile.errors import Diagnostic

    if name in (None, "github", "gitlab"):
        return name  # type: ignore[return-value]
    raise UserError(
        Diagnostic(
            "MLC801", f"--provider {name!r} is not a CI provider", None, "use github or gitlab"
        )
    )


@app.command("diff")
def diff_command(
    build_a: Annotated[str, typer.Argument(help="A build folder, or a git revision.")],
    build_b: Annotated[Path, typer.Argument(help="A build folder (or a folder of builds).")],
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Markdown for a CI job summary.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """What changed between two builds: steps, parameters and stack resources, per platform."""
    from mlcompile.ci.diff import diff_command as run_diff

    _guard(as_json, lambda: run_diff(build_a, build_b, markdown=markdown, as_json=as_json))


@app.command()
def monitor(
    endpoint: Annotated[
        str, typer.Argument(metavar="ENDPOINT", help="A locally deployed endpoint with a monitor.")
    ],
    store: StoreOpt = Path(".mlcompile"),
    retrain: Annotated[
        bool, typer.Option("--retrain/--no-retrain", help="On drift, start the declared run.")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Compare what a local endpoint served with its baseline; on drift, act as declared."""
    from mlcompile.monitor import local

    _guard(as_json, lambda: local.monitor_endpoint(endpoint, store, retrain, as_json))


@app.command()
def schema(
    what: Annotated[str, typer.Argument(metavar="WHAT", help="profile or ir")] = "profile",
    as_json: JsonOpt = False,
) -> None:
    """Print the JSON schema of a deployment profile or of the IR (JSON either way)."""
    from mlcompile.cli import commands

    _guard(as_json, lambda: commands.print_schema(what))


def main() -> None:
    try:
        app()
    finally:
        # The command has answered; a Ctrl-C while the interpreter exits must not turn its exit
        # code into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    main()
