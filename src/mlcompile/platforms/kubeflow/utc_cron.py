"""A cron expression in a time zone, rewritten as the cron expression in UTC that fires at the
same instants: Kubeflow's recurring runs have no time-zone field, and their scheduler reads cron
in UTC.

The zone's offset is fixed at compile time: its *standard* offset, read from the IANA database
(``zoneinfo``) over :data:`RULES_YEAR`, never from the clock, so a build is the same whenever it
is made. A zone that observes daylight saving time has a second offset part of the year; while it
is in force the UTC cron fires earlier or later by the local clock, which :class:`UtcCron` says
(``daylight_offset``) so the compiler can warn.

Shifting by the offset moves each firing time; the cron stays exact when the shifted times are
still a product of minutes and hours, and either every day fires or all the times move to the
same neighbouring day (the day fields then move by one: a weekday wraps around the week; a day of
the month must stay inside every month, so ``1`` cannot move back and ``28`` cannot move on, and a
month list cannot move at all when the days reach a month's end). Anything else raises
:class:`NotExact` with the reason.

Fields follow the scheduler's cron (robfig/cron): ``*``, values, names (``JAN``, ``MON``), ranges,
lists and steps (``*/15``, ``1-10/2``, ``5/15`` meaning ``5-max/15``); day of week 7 is Sunday.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: The year whose rules are read: well past every change the database lists, so the offsets
#: are the zone's rules from now on (the database's own rule for the years ahead).
RULES_YEAR = 2100

_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_NAMES: tuple[dict[str, int], ...] = (
    {},
    {},
    {},
    {
        m: i + 1
        for i, m in enumerate(
            ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
        )
    },
    {d: i for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))},
)
_DAY = 24 * 60


class NotExact(ValueError):
    """The cron has no UTC equivalent that fires at exactly the same instants; why."""


@dataclass(frozen=True)
class UtcCron:
    """``cron`` in UTC for the five-field ``source`` in ``zone``, at the zone's standard offset
    (minutes east of UTC); ``daylight_offset`` is the offset in daylight saving time, or None
    when the zone keeps one offset all year."""

    source: str
    zone: str
    cron: str
    standard_offset: int
    daylight_offset: int | None = None


def offsets(zone: str) -> tuple[int, int | None]:
    """(standard offset, daylight saving offset or None) of ``zone`` in minutes east of UTC."""
    import zoneinfo  # novermin: only the compiling host runs this

    tz = zoneinfo.ZoneInfo(zone)
    seen: list[tuple[int, bool]] = []
    for month in range(1, 13):
        for day in (1, 15):
            moment = dt.datetime(RULES_YEAR, month, day, 12, tzinfo=tz)
            offset = moment.utcoffset() or dt.timedelta(0)
            seen.append((int(offset.total_seconds() // 60), bool(moment.dst())))
    standard = next((o for o, daylight in seen if not daylight), seen[0][0])
    other = next((o for o, _ in seen if o != standard), None)
    return standard, other


def to_utc(cron: str, zone: str) -> UtcCron:
    """The UTC cron firing when ``cron`` fires in ``zone`` at its standard offset."""
    standard, daylight = offsets(zone)
    return UtcCron(cron, zone, shift(cron, standard), standard, daylight)


def shift(cron: str, offset: int) -> str:
    """``cron``, read at ``offset`` minutes east of UTC, as the same instants in UTC."""
    texts = cron.split()
    if len(texts) != 5:
        raise NotExact(f"{cron!r} does not have five fields")
    if offset % _DAY == 0:
        return " ".join(texts)
    minutes, hours, doms, _, dows = (expand(text, index) for index, text in enumerate(texts))
    by_day: dict[int, set[tuple[int, int]]] = {}
    for hour in hours:
        for minute in minutes:
            moved = hour * 60 + minute - offset
            by_day.setdefault(moved // _DAY, set()).add(divmod(moved % _DAY, 60))
    every_day = texts[2] == texts[3] == texts[4] == "*"
    if every_day:
        times = set().union(*by_day.values())
        day = 0
    elif len(by_day) > 1:
        raise NotExact(
            "some of its times fall on the previous or next day in UTC and others do not, "
            "and one cron cannot move only some of them to another day"
        )
    else:
        ((day, times),) = by_day.items()
    new_hours = sorted({h for h, _ in times})
    new_minutes = sorted({m for _, m in times})
    if len(new_hours) * len(new_minutes) != len(times):
        raise NotExact(
            f"its times in UTC ({_times(times)}) are not every listed minute of every listed "
            "hour, which is all a cron's minute and hour fields can say"
        )
    out = list(texts)
    if new_minutes != minutes:
        out[0] = compact(new_minutes, 0)
    if new_hours != hours:
        out[1] = compact(new_hours, 1)
    if day:
        out[2], out[3], out[4] = _move_days(texts, doms, dows, day)
    return " ".join(out)


def _move_days(texts: list[str], doms: list[int], dows: list[int], day: int) -> tuple[str, ...]:
    """The day fields one day on (``day`` 1) or back (-1)."""
    dom, month, dow = texts[2], texts[3], texts[4]
    when = "the previous day" if day < 0 else "the next day"
    if dom != "*":
        low, high = (2, 31) if day < 0 else (1, 27)
        if doms[0] < low or doms[-1] > high:
            edge = "the 1st" if day < 0 else f"the {doms[-1]}{_ordinal(doms[-1])}"
            raise NotExact(
                f"its times fall on {when} in UTC, and day of month {dom!r} includes {edge}, "
                "whose neighbouring day is not the same day of the month in every month"
            )
        dom = compact([d + day for d in doms], 2)
    if month != "*" and (texts[2] == "*" or texts[4] != "*"):
        raise NotExact(
            f"its times fall on {when} in UTC, and with month {month!r} the days at a month's "
            "end would move into a month the cron does not list"
        )
    if dow != "*":
        dow = compact(sorted({(d + day) % 7 for d in dows}), 4)
    return dom, month, dow


def expand(text: str, index: int) -> list[int]:
    """The sorted values a cron field matches (day of week 7 is 0, Sunday)."""
    low, high = _RANGES[index]
    top = 7 if index == 4 else high
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, top
        else:
            bounds = [_value(b, index) for b in base.split("-")]
            start = bounds[0]
            end = bounds[-1] if len(bounds) == 2 else (top if step_text else start)
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values = (values - {7}) | {0}
    return sorted(values)


def _value(text: str, index: int) -> int:
    named = _NAMES[index].get(text.upper())
    return named if named is not None else int(text)


def compact(values: list[int], index: int) -> str:
    """The shortest plain spelling of a set of field values: ``*``, ``a-b/step``, or a list of
    values and ranges."""
    low, high = _RANGES[index]
    values = sorted(set(values))
    if values == list(range(low, high + 1)):
        return "*"
    if len(values) >= 3:
        step = values[1] - values[0]
        if step > 1 and values == list(range(values[0], values[-1] + 1, step)):
            return f"{values[0]}-{values[-1]}/{step}"
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{run[0]}-{run[-1]}")
        else:
            parts.extend(str(v) for v in run)
    return ",".join(parts)


def _times(times: set[tuple[int, int]]) -> str:
    shown = [f"{h:02d}:{m:02d}" for h, m in sorted(times)]
    return ", ".join(shown[:6]) + (", ..." if len(shown) > 6 else "")


def _ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def describe_offset(minutes: int) -> str:
    """UTC+05:30, UTC-05:00, UTC+00:00."""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"
