"""What a deploy had done when it failed: every platform's deploy records each change it made,
so the failure tells the operator where it stopped and that running it again resumes."""

from __future__ import annotations

from collections.abc import Sequence


def with_progress(message: str, done: Sequence[str]) -> str:
    """``message`` followed by the changes already made (each step of a deploy is an upsert)."""
    already = "; ".join(done) if done else "nothing"
    return f"{message}. Already done: {already}. Run the same deploy again to resume."
