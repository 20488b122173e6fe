"""final() inside a nested pipeline: it runs when that pipeline's own steps are done, whether
they failed or not, and reads that pipeline's state (not the outer run's)."""

from mlcompile import RunStatus, final, pipeline, step


@step
def work(fail_it: bool) -> int:
    """Fails when asked to."""
    if fail_it:
        raise RuntimeError("the work failed on purpose")
    return 1


@step
def report(status: RunStatus, note: str, scope: str) -> None:
    """Append the state this final step saw, with the pipeline it belongs to."""
    if note:
        with open(note, "a") as f:
            f.write(f"{scope} {status.state}\n")


@pipeline
def stage(fail_it: bool, note: str) -> None:
    """Work, then always report how this stage went."""
    work(fail_it=fail_it)
    final(report(note=note, scope="stage"))


@pipeline
def nested_final(fail_it: bool = False, note: str = "") -> None:
    """One stage that may fail, and an outer report after everything."""
    stage(fail_it=fail_it, note=note)
    final(report(note=note, scope="outer"))
