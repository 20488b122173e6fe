"""Names the DSL gives repeated step calls stay within the 64-character limit and unique."""

from __future__ import annotations

from pathlib import Path

from mlcompile.dsl.trace import NAME_LIMIT, numbered
from mlcompile.ir.validate import TASK_NAME
from mlcompile.ir.walk import scoped_tasks

from .helpers import build

A = "a" * 62 + "xy"
B = "a" * 62 + "zz"


def test_numbered_fits_the_limit() -> None:
    assert numbered("train", 2) == "train_2"
    assert numbered("t" * 62, 2) == "t" * 62 + "_2"
    assert numbered("t" * 63, 2) == "t" * 62 + "_2"
    assert numbered("t" * 64, 12) == "t" * 61 + "_12"
    assert numbered("t" * 61 + "__x", 2) == "t" * 61 + "_2", "a cut never ends in _ or -"
    assert all(len(numbered("q" * 64, n)) == NAME_LIMIT for n in (2, 10, 100))


def test_repeated_calls_of_steps_at_the_limit_get_distinct_valid_names(tmp_path: Path) -> None:
    pipeline = build(
        tmp_path,
        f"""
        @step
        def {A}(n: int) -> int:
            return n

        @step
        def {B}(n: int) -> int:
            return n

        @pipeline
        def flow(n: int = 1):
            {A}(n=n)
            {A}(n=n)
            {B}(n=n)
            {B}(n=n)
            {A}(n=n)
        """,
    )
    names = [s.task.name for s in scoped_tasks(pipeline)]
    assert names == [A, "a" * 62 + "_2", B, "a" * 62 + "_3", "a" * 62 + "_4"]
    assert all(TASK_NAME.match(n) for n in names)


def test_same_source_twice_gives_the_same_names(tmp_path: Path) -> None:
    source = f"""
        @step
        def {A}(n: int) -> int:
            return n

        @pipeline
        def flow(n: int = 1):
            for _ in range(12):
                {A}(n=n)
        """
    first = [s.task.name for s in scoped_tasks(build(tmp_path, source))]
    second = [s.task.name for s in scoped_tasks(build(tmp_path, source))]
    assert first == second
    assert first[-1] == "a" * 61 + "_12" and len(set(first)) == 12
