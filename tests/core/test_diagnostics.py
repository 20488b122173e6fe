"""Every diagnostic: its code, its message naming the rule, the user's line, and a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcompile.errors import CODES, PipelineLoadError, ValidationError
from mlcompile.loader import load

from .helpers import build, errors, line_of, write

PRODUCER = """
@step
def produce() -> float:
    return 1.0

@step
def take(x: float) -> None:
    pass

@step
def make(data: Output[Dataset], metrics: Output[Metrics]) -> None:
    pass

@step
def read(data: Input[Dataset]) -> None:
    pass
"""


def only(tmp_path: Path, body: str, code: str, match: str) -> None:
    """Building ``body`` fails with exactly one diagnostic ``code`` located on the marked line."""
    source = PRODUCER + body
    diags = errors(tmp_path, source)
    assert [d.code for d in diags] == [code], [str(d) for d in diags]
    (diag,) = diags
    assert diag.hint
    assert diag.location is not None
    assert diag.location.line == line_of(source, "# <-"), str(diag)
    with pytest.raises(ValidationError, match=match):
        build(tmp_path, source)


CASES = {
    "unknown-input": (
        "MLC101",
        "has no input 'y'",
        """
@pipeline
def flow():
    take(y=1.0)  # <-
""",
    ),
    "missing-input": (
        "MLC102",
        "required input 'x'",
        """
@pipeline
def flow():
    take()  # <-
""",
    ),
    "type-mismatch": (
        "MLC103",
        "expects float but is given str",
        """
@pipeline
def flow(name: str = "a"):
    take(x=name)  # <-
""",
    ),
    "artifact-given-parameter": (
        "MLC103",
        "expects Dataset but is given float",
        """
@pipeline
def flow():
    read(data=produce().output)  # <-
""",
    ),
    "duplicate-step-name": (
        "MLC104",
        "two steps are named 'same'",
        """
@pipeline
def flow():
    produce().with_options(name="same")
    produce().with_options(name="same")  # <-
""",
    ),
    "out-of-scope": (
        "MLC105",
        "inside a when/for_each block",
        """
@pipeline
def flow(go: bool = True):
    with when(go == True):
        p = produce()
    take(x=p.output)  # <-
""",
    ),
    "loop-item-outside": (
        "MLC105",
        "outside that for_each block",
        """
@pipeline
def flow():
    with for_each([1.0, 2.0]) as item:
        pass
    take(x=item)  # <-
""",
    ),
    "non-comparable": (
        "MLC106",
        "Dataset > float",
        """
@pipeline
def flow():
    m = make()
    with when(m.data > 0.5):  # <-
        produce()
""",
    ),
    "condition-as-bool": (
        "MLC106",
        "used as a Python bool",
        """
@pipeline
def flow():
    p = produce()
    if p.output > 0.5:  # <-
        produce()
""",
    ),
    "missing-annotation": (
        "MLC108",
        "needs a type annotation",
        """
@pipeline  # <-
def flow(x=1):
    produce()
""",
    ),
    "unknown-output": (
        "MLC109",
        "has no output 'score'",
        """
@pipeline
def flow():
    take(x=make().score)  # <-
""",
    ),
    "ambiguous-output": (
        "MLC110",
        "not exactly one",
        """
@pipeline
def flow():
    read(data=make())  # <-
""",
    ),
    "otherwise-without-when": (
        "MLC111",
        "does not follow a when",
        """
@pipeline
def flow():
    produce()
    with otherwise():  # <-
        produce()
""",
    ),
    "fan-out-over-non-list": (
        "MLC112",
        "not a list",
        """
@pipeline
def flow():
    with for_each(produce().output) as item:  # <-
        take(x=item)
""",
    ),
    "merge-types-differ": (
        "MLC113",
        "different types",
        """
@pipeline
def flow(go: bool = True):
    with when(go == True):
        a = produce()
    with otherwise():
        b = make()
    read(data=merge(a.output, b.data))  # <-
""",
    ),
    "merge-outside-condition": (
        "MLC113",
        "not inside a when/otherwise branch",
        """
@pipeline
def flow():
    a = produce()
    b = produce()
    take(x=merge(a.output, b.output))  # <-
""",
    ),
    "final-reads-output": (
        "MLC114",
        "reads an output of another step",
        """
@pipeline
def flow():
    p = produce()
    final(take(x=p.output))  # <-
""",
    ),
    "collect-outside-loop": (
        "MLC116",
        "not inside a for_each block",
        """
@pipeline
def flow():
    p = produce()
    take(x=collect(p.output))  # <-
""",
    ),
    "bad-value": (
        "MLC117",
        "cannot be passed between steps",
        """
@pipeline
def flow():
    take(x=object())  # <-
""",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_pipeline_diagnostic(tmp_path: Path, case: str) -> None:
    code, match, body = CASES[case]
    only(tmp_path, body, code, match)


OPTION_CASES = {
    "bad-cpu": ("MLC201", "is not a CPU quantity", 'resources=Resources(cpu="lots")'),
    "bad-memory": ("MLC201", "not a quantity of bytes", 'resources=Resources(memory="4 gigs")'),
    "gpu-type-without-gpu": (
        "MLC201",
        "gpu is 0",
        'resources=Resources(gpu_type="nvidia-tesla-t4")',
    ),
    "literal-secret": ("MLC202", "where a Secret reference belongs", 'secrets=["warehouse-token"]'),
    "credential-in-env": ("MLC202", "looks like a credential", 'env={"API_KEY": "sk-live-123"}'),
    "bad-retry": ("MLC203", "is not a retry policy", "retries=-1"),
    "bad-backoff": ("MLC204", "is not a duration", 'retries=Retry(count=2, backoff="soon")'),
    "bad-timeout": ("MLC204", "is not a duration", 'timeout="forever"'),
    "unknown-platform": ("MLC205", "Did you mean 'sagemaker'", 'platform_options={"sagemker": {}}'),
    "unknown-option": ("MLC207", "Did you mean 'retries'", "retry=2"),
}


@pytest.mark.parametrize("case", sorted(OPTION_CASES))
def test_step_option_diagnostic(tmp_path: Path, case: str) -> None:
    code, match, option = OPTION_CASES[case]
    source = f"""
@step({option})  # <-
def work() -> None:
    pass

@pipeline
def flow():
    work()
"""
    diags = errors(tmp_path, source)
    assert [d.code for d in diags] == [code], [str(d) for d in diags]
    assert diags[0].location is not None and diags[0].location.line == line_of(source, "# <-")
    assert match in diags[0].message and diags[0].hint


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("0 3 * *", "4 fields"),
        ("61 * * * *", "minute '61'"),
        ("0 5-2 * * *", "backwards"),
        ("0 0 * * FUNDAY", "day of week"),
    ],
)
def test_bad_cron(tmp_path: Path, cron: str, problem: str) -> None:
    source = f"""
@step
def work() -> None:
    pass

@pipeline(schedule="{cron}")  # <-
def flow():
    work()
"""
    (diag,) = errors(tmp_path, source)
    assert diag.code == "MLC107" and problem in diag.message
    assert diag.location is not None and diag.location.line == line_of(source, "# <-")


def test_container_step_without_command(tmp_path: Path) -> None:
    (diag,) = errors(
        tmp_path,
        """
@container_step(image="alpine")
def nothing(x: int) -> Command:
    return Command()

@pipeline
def flow():
    nothing(x=1)
""",
    )
    assert diag.code == "MLC206" and "command is empty" in diag.message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    source = (
        PRODUCER
        + """
@step(resources=Resources(memory="lots"))
def heavy() -> None:
    pass

@pipeline(schedule="not cron")
def flow(name: str = "a"):
    heavy()
    take(y=1.0)
    take(x=name)
"""
    )
    got = sorted(d.code for d in errors(tmp_path, source))
    assert got == ["MLC101", "MLC103", "MLC107", "MLC201"]


def test_load_errors_are_located(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("from mlcompile import pipeline\n\ndef oops(:\n    pass\n")
    with pytest.raises(PipelineLoadError) as info:
        load(str(broken))
    (diag,) = info.value.diagnostics
    assert diag.code == "MLC001" and diag.location is not None and diag.location.line == 3

    raising = tmp_path / "raising.py"
    raising.write_text("import json\n\nvalue = json.loads('{')\n")
    with pytest.raises(PipelineLoadError, match="JSONDecodeError") as info:
        load(str(raising))
    assert info.value.diagnostics[0].location is not None
    assert info.value.diagnostics[0].location.line == 3

    with pytest.raises(PipelineLoadError, match="does not exist"):
        load(str(tmp_path / "missing.py"))
    empty = write(tmp_path, "x = 1\n")
    with pytest.raises(PipelineLoadError, match="defines no @pipeline"):
        load(str(empty))
    two = write(
        tmp_path,
        """
@step
def s() -> None:
    pass

@pipeline
def first():
    s()

@pipeline
def second():
    s()
""",
    )
    with pytest.raises(PipelineLoadError, match="several pipelines") as info:
        load(str(two))
    assert info.value.diagnostics[0].code == "MLC003"
    assert load(f"{two}:second").definition.name == "second"
    with pytest.raises(PipelineLoadError, match="Did you mean 'second'"):
        load(f"{two}:secnd")


def test_codes_are_documented() -> None:
    import mlcompile.errors as errors_module

    assert errors_module.__doc__ is not None
    for code in CODES:
        assert code.startswith("MLC") and len(code) == 6
