"""``make demo``: the churn example from a fresh clone, end to end, on this machine.

It runs churn locally twice (the second run comes from the cache), shows the lineage of the
model it registered and writes the first run's page, sends the endpoint a shifted batch so that
its monitor detects drift and starts the declared retraining, compiles the pipeline for every
profile in ``targets/`` and generates each
profile's infrastructure, then lists what was written where, with hashes. A platform or the
infra generator that is not installed is reported as not available instead of stopping the demo.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from mlcompile.errors import MlcompileError

SPEC = "examples/churn/pipeline.py"
SECRET = "MLCOMPILE_SECRET_CHURN_WAREHOUSE_TOKEN"
DEMO_DIR = Path("build/demo")


def main() -> int:
    from mlcompile.cli import commands
    from mlcompile.loader import load
    from mlcompile.local.cli import run_page, show_lineage
    from mlcompile.local.progress import print_summary, reporter_for
    from mlcompile.local.runner import RunResult, run_pipeline
    from mlcompile.params import parse_params

    os.chdir(_repo())
    store = DEMO_DIR / "store"
    shutil.rmtree(DEMO_DIR, ignore_errors=True)  # the demo's own folder: start from nothing
    _title("1. Run churn locally, twice")
    if SECRET not in os.environ:
        os.environ[SECRET] = "demo-placeholder-not-a-real-token"
        print(
            f"{SECRET} is not set: using a placeholder value for this demo only (the step only"
            " checks the token is present)."
        )
    loaded = load(SPEC)
    pipeline = loaded.build()
    params = parse_params(pipeline, [])
    runs: list[RunResult] = []
    for attempt in ("first run", "second run (same code, data and parameters)"):
        print(f"\n{attempt}:")
        result = run_pipeline(
            pipeline,
            params,
            root=loaded.root,
            store=store,
            spec=SPEC,
            reporter=reporter_for(pipeline.name, as_json=False),
        )
        print_summary(result)
        runs.append(result)
        if not result.ok:
            print("the local run failed; stopping the demo", file=sys.stderr)
            return 1
    first, second = runs
    cached = sum(1 for v in second.steps if v.cached_from)
    print(
        f"\nsecond run: {cached} of {len(second.steps)} steps from the cache,"
        f" {first.seconds:.2f}s -> {second.seconds:.2f}s"
        f" ({first.seconds / max(second.seconds, 1e-9):.1f}x faster)"
    )

    _title("2. Lineage of the registered model (mlcompile lineage model:churn)")
    show_lineage("model:churn", store, as_json=False)
    print(f"\nthe first run as a page (mlcompile runs {first.run_id} --html):")
    run_page(first.run_id, store, None, as_json=False)

    _title("2b. Drift: serve churn, send a shifted batch, monitor, retrain")
    from mlcompile.monitor.demo import show_drift

    problems = 0 if show_drift(store) else 1

    _title("3. Compile for every profile, and generate its infrastructure")
    produced: list[tuple[str, str]] = []
    for profile in sorted(p.stem for p in Path("targets").glob("*.yaml")):
        out = DEMO_DIR / profile
        print(f"\n[{profile}]")
        status = _attempt(commands.compile_pipeline, profile, out)
        problems += status == "failed"
        if status == "ok":
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
            produced.extend(
                ((out / rel).as_posix(), sha) for rel, sha in sorted(manifest["files"].items())
            )
        infra = out / "infra"
        status = _attempt(commands.generate_infra, profile, infra)
        problems += status == "failed"
        if status == "ok":
            from mlcompile.local.store import file_sha256

            produced.extend(
                (p.as_posix(), file_sha256(p)) for p in sorted(infra.rglob("*")) if p.is_file()
            )

    _title("4. What was produced where")
    print(
        f"local store {store}/: lineage.db, {sum(1 for _ in (store / 'artifacts').iterdir())} artifacts"
    )
    print(f"  serve the deployed model: mlcompile serve churn --store {store}")
    print(f"  open the build reports: {DEMO_DIR}/<profile>/report.html")
    for path, sha in produced:
        print(f"  {path}  sha256:{sha[:16]}")
    print(f"IR hash of churn: {first.ir_hash}")
    problems += _ci_demo()
    return 1 if problems else 0


def _ci_demo() -> int:
    """The CI workflows for churn, and the diff of two builds that differ in their profile."""
    import yaml

    from mlcompile.ci.command import write_ci
    from mlcompile.ci.diff import compare, load_builds, to_text
    from mlcompile.cli import commands

    _title("5. CI workflows (mlcompile ci) and a build diff (mlcompile diff)")
    out = DEMO_DIR / "ci"
    targets = ["sagemaker-dev", "vertex-dev", "sagemaker-prod"]
    write_ci(
        [SPEC], targets, provider=None, repository="acme/churn", branch=None, out=out, as_json=False
    )
    for path in sorted((out / ".github" / "workflows").glob("*.yml")):
        jobs = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]
        print(f"  {path}: jobs {', '.join(jobs)}")
    # A second build of churn whose profile trains on a larger instance type.
    variant = DEMO_DIR / "variant" / "sagemaker-dev.yaml"
    variant.parent.mkdir(parents=True, exist_ok=True)
    variant.write_text(
        Path("targets/sagemaker-dev.yaml").read_text(encoding="utf-8")
        + "instance_types:\n  training: ml.m5.2xlarge\n",
        encoding="utf-8",
    )
    status = _attempt(commands.compile_pipeline, str(variant), DEMO_DIR / "variant" / "build")
    if status == "ok":
        status = _attempt(
            commands.generate_infra, str(variant), DEMO_DIR / "variant" / "build" / "infra"
        )
    if status != "ok":
        return int(status == "failed")
    before, after = DEMO_DIR / "sagemaker-dev", DEMO_DIR / "variant" / "build"
    print(f"\nmlcompile diff {before} {after}")
    print(to_text(compare(load_builds(before), load_builds(after))), end="")
    return 0


def _attempt(command: Callable[[str, str, Path, bool], int], profile: str, out: Path) -> str:
    """Run a compile or infra command; 'not available' when its module is not installed yet."""
    try:
        command(SPEC, profile, out, False)
    except ImportError as exc:
        print(f"  not available ({exc})")
        return "not available"
    except MlcompileError as exc:
        codes = {d.code for d in getattr(exc, "diagnostics", [])}
        if codes == {"MLC503"}:
            # Production forbids installing packages at step start: the steps need images
            # built and pushed first, which needs the profile's cloud registry.
            steps = sorted({d.message.split("'")[1] for d in getattr(exc, "diagnostics", [])})
            print(f"  refused, as production should be: {', '.join(steps)} need step images")
            print(f"  (mlcompile images {SPEC} --target {profile}, then compile)")
            return "gated"
        print(f"  failed: {exc}")
        return "failed"
    except Exception as exc:  # the demo reports every profile even when one breaks
        print(f"  failed: {type(exc).__name__}: {exc}")
        return "failed"
    return "ok"


def _title(text: str) -> None:
    print(f"\n=== {text} ===")


def _repo() -> Path:
    """The clone's root: the working directory when it has the examples, else this file's repo."""
    here = Path.cwd()
    if (here / SPEC).is_file():
        return here
    return Path(__file__).resolve().parents[2]


if __name__ == "__main__":
    sys.exit(main())
