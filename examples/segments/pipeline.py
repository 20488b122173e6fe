"""Per-segment scoring over a list known only at run time: a step returns the segments and the
pipeline fans out over them. Platforms that cannot loop at run time (SageMaker) refuse it."""

from mlcompile import collect, for_each, pipeline, step


@step
def list_segments(count: int) -> list:
    """Discover the segments to score (here: a fixed naming scheme)."""
    return [f"segment-{i}" for i in range(count)]


@step(retries=1)
def score_segment(segment: str, weight: float) -> float:
    """A deterministic score per segment."""
    return round(weight * (sum(map(ord, segment)) % 97) / 97, 4)


@step
def summarize(scores: list) -> float:
    """The mean score over all segments."""
    return round(sum(scores) / len(scores), 4)


@pipeline
def segments(count: int = 3, weight: float = 1.0) -> dict:
    """Fan out over the segments a step lists, at most two at a time, then average."""
    listed = list_segments(count=count)
    with for_each(listed.output, parallelism=2) as segment:
        scored = score_segment(segment=segment, weight=weight)
    return {"mean_score": summarize(scores=collect(scored.output))}
