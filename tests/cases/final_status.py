"""The final step reads how the run went (RunStatus: KFP's PipelineTaskFinalStatus), and runs
whether the work failed or not."""

from mlcompile import RunStatus, final, pipeline, step


@step
def work(fail_it: bool) -> int:
    """Fails when asked to."""
    if fail_it:
        raise RuntimeError("the work failed on purpose")
    return 1


@step
def report(status: RunStatus, note: str) -> None:
    """Write the run's state where the test (or an operator) reads it."""
    if note:
        with open(note, "w") as f:
            f.write(status.state)


@pipeline
def final_status(fail_it: bool = False, note: str = "") -> None:
    """Do the work, then always report how it went."""
    work(fail_it=fail_it)
    final(report(note=note))
