"""Small pipelines for the local runner's tests. Steps leave marker files in ``marker`` so a
test can see how often, when and in which order they ran."""

from __future__ import annotations

import json
import os
import time

from mlcompile import (
    Command,
    Dataset,
    Input,
    Metrics,
    Output,
    Retry,
    Secret,
    collect,
    container_step,
    fail,
    final,
    for_each,
    merge,
    otherwise,
    pipeline,
    step,
    when,
)


def _note(marker: str, name: str, text: str = "") -> None:
    os.makedirs(marker, exist_ok=True)
    with open(os.path.join(marker, name), "a", encoding="utf-8") as f:
        f.write(text + "\n")


@step(retries=Retry(count=3, backoff="2s", factor=2))
def flaky(marker: str, fail_times: int) -> int:
    """Fails its first ``fail_times`` attempts."""
    _note(marker, "flaky", str(time.time()))
    with open(os.path.join(marker, "flaky"), encoding="utf-8") as f:
        attempts = len(f.readlines())
    if attempts <= fail_times:
        raise RuntimeError(f"attempt {attempts} fails on purpose")
    return attempts


@pipeline
def retrying(marker: str, fail_times: int = 2) -> dict:
    return {"attempts": flaky(marker=marker, fail_times=fail_times).output}


@step(timeout="1s")
def sleepy(seconds: float) -> None:
    time.sleep(seconds)


@pipeline
def timing_out(seconds: float = 30.0) -> None:
    sleepy(seconds=seconds)


@step(cache=False)
def stamp(marker: str, item: str, seconds: float) -> str:
    """Records when it ran, so a test can count how many ran at once."""
    start = time.time()
    time.sleep(seconds)
    _note(marker, f"stamp-{item}", json.dumps([start, time.time()]))
    return item


@pipeline
def fan_out(marker: str, items: list, seconds: float = 0.5) -> dict:
    with for_each(items, parallelism=2) as item:
        done = stamp(marker=marker, item=item, seconds=seconds)
    return {"items": collect(done.output)}


@pipeline
def wide(marker: str, seconds: float = 0.5) -> None:
    with for_each(["a", "b", "c", "d", "e"]) as item:
        stamp(marker=marker, item=item, seconds=seconds)


@step
def produce(value: int, data: Output[Dataset]) -> int:
    with open(data.path, "w", encoding="utf-8") as f:
        f.write(f"value={value}\n")
    return value


@step
def breakable(marker: str, data: Input[Dataset]) -> str:
    """Fails while the file ``broken`` exists in ``marker``."""
    _note(marker, "breakable")
    if os.path.exists(os.path.join(marker, "broken")):
        raise ValueError("the data is broken")
    with open(data.path, encoding="utf-8") as f:
        return f.read().strip()


@step
def after_break(text: str) -> str:
    return text.upper()


@step
def independent(marker: str) -> str:
    _note(marker, "independent")
    return "ok"


@step(cache=False)
def cleanup(marker: str) -> None:
    _note(marker, "cleanup")


@pipeline
def failing(marker: str, value: int = 1) -> dict:
    final(cleanup(marker=marker))
    made = produce(value=value)
    broken = breakable(marker=marker, data=made.data)
    independent(marker=marker)
    return {"shout": after_break(text=broken.output).output}


@step
def number(value: int) -> int:
    return value


@step
def label(text: str, value: int) -> str:
    return f"{text}:{value}"


@pipeline
def branching(value: int = 7) -> dict:
    first = number(value=value)
    with when(first.output > 5):
        high = label(text="high", value=first.output)
    with otherwise():
        low = label(text="low", value=first.output)
    return {"label": label(text="merged", value=0).output, "chosen": merge(high.output, low.output)}


@step
def score(value: float, metrics: Output[Metrics]) -> None:
    metrics.log_metric("score", value)


@step
def accept(value: float) -> str:
    return f"accepted {value}"


@pipeline
def gated(value: float = 0.8, threshold: float = 0.5) -> None:
    scored = score(value=value)
    with when(scored.metrics["score"] >= threshold):
        accept(value=value)
    with otherwise():
        fail(f"score {value} is below {threshold}")


@pipeline
def missing_metric(value: float = 0.8) -> None:
    scored = score(value=value)
    with when(scored.metrics["precision"] >= 0.5):
        accept(value=value)


@pipeline
def inner(value: int = 2) -> dict:
    made = produce(value=value)
    return {"data": made.data, "value": made.output}


@step
def read_text(data: Input[Dataset]) -> str:
    with open(data.path, encoding="utf-8") as f:
        return f.read().strip()


@pipeline
def outer(value: int = 5) -> dict:
    nested = inner(value=value)
    return {"text": read_text(data=nested.data).output, "value": nested.value}


@container_step(image="python:3.11-slim")
def count_chars(text: str, result: Output[Dataset]) -> Command:
    return Command(
        command=[
            "python3",
            "-c",
            "import sys; open(sys.argv[2], 'w').write(str(len(sys.argv[1])))",
        ],
        args=[text, result.path],
    )


@pipeline
def containers(text: str = "hello") -> dict:
    counted = count_chars(text=text)
    return {"count": read_text(data=counted.result).output}


@container_step(image="example/tool:1")
def missing_tool(result: Output[Dataset]) -> Command:
    return Command(command=["mlcompile-no-such-program", result.path])


@pipeline
def no_program() -> None:
    missing_tool()


@step(secrets=[Secret("test-api-token", env="API_TOKEN")])
def use_secret() -> bool:
    return os.environ["API_TOKEN"] == "s3cret"


@pipeline
def secretive() -> dict:
    return {"ok": use_secret().output}


@step(cache=False)
def uncached(marker: str) -> None:
    _note(marker, "uncached")


@step
def cached_step(marker: str) -> None:
    _note(marker, "cached")


@pipeline
def cache_modes(marker: str) -> None:
    uncached(marker=marker)
    cached_step(marker=marker)


@step
def wait_for(marker: str, seconds: float, data: Input[Dataset]) -> int:
    _note(marker, "waiting")
    time.sleep(seconds)
    return 1


@pipeline
def long_running(marker: str, seconds: float = 60.0) -> None:
    first = produce(value=1)
    wait_for(marker=marker, seconds=seconds, data=first.data)


@step
def pace(value: int, seconds: float) -> int:
    time.sleep(seconds)
    return value + 1


@step
def pace_file(value: int, values: list, data: Output[Dataset]) -> int:
    with open(data.path, "w", encoding="utf-8") as f:
        f.write(f"{value} {sorted(values)}\n")
    return value + sum(values)


@pipeline
def interruptible(seconds: float = 0.2) -> dict:
    """A short run with a chain, a loop and an artifact: Ctrl-C can land anywhere in it."""
    a = pace(value=0, seconds=seconds)
    b = pace(value=a.output, seconds=seconds)
    with for_each([1, 2, 3], parallelism=2) as item:
        looped = pace(value=item, seconds=seconds)
    written = pace_file(value=b.output, values=collect(looped.output))
    return {"value": written.output}


@step(cache=False)
def checked(marker: str, item: int) -> int:
    """Fails for item 2 (the second iteration: pace adds one)."""
    time.sleep(0.5)
    if item == 2:
        raise ValueError("item 2 fails on purpose")
    _note(marker, f"checked-{item}", str(time.time()))
    return item


@step(cache=False)
def fan_in(marker: str, values: list) -> None:
    _note(marker, "fan_in", str(time.time()))


@pipeline
def loop_barrier(marker: str) -> None:
    """The fan-in reads only the loop's first step; the loop still is a barrier for it."""
    with for_each([0, 1, 2]) as item:
        first = pace(value=item, seconds=0.0)
        checked(marker=marker, item=first.output)
    fan_in(marker=marker, values=collect(first.output))


@step(cache=False)
def like_a_fresh_process(marker: str, name: str) -> int:
    """What a step may rely on at exit: its non-daemon threads finish, its atexit handlers run;
    and its random numbers are its own."""
    import atexit
    import random
    import threading

    def late() -> None:
        time.sleep(0.3)
        _note(marker, f"{name}-thread")

    threading.Thread(target=late).start()
    atexit.register(_note, marker, f"{name}-atexit")
    return random.getrandbits(64)


@pipeline
def fresh_processes(marker: str) -> dict:
    first = like_a_fresh_process(marker=marker, name="one")
    second = like_a_fresh_process(marker=marker, name="two")
    return {"first": first.output, "second": second.output}
