"""A cron in a time zone as the UTC cron Kubeflow's scheduler runs: offsets from the IANA
database (never the clock), exact shifts, and refusals with a reason only where no cron fits."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from mlcompile.platforms.kubeflow.utc_cron import (
    NotExact,
    compact,
    describe_offset,
    expand,
    offsets,
    shift,
    to_utc,
)

#: zone -> (standard offset, daylight saving offset or None), in minutes east of UTC.
ZONES = {
    "UTC": (0, None),
    "Europe/London": (0, 60),
    "Asia/Kolkata": (330, None),
    "America/New_York": (-300, -240),
    "Australia/Sydney": (600, 660),
}

#: (cron, zone, UTC cron)
SHIFTS = [
    ("0 3 * * 1", "UTC", "0 3 * * 1"),
    ("0 3 * * 1", "Europe/London", "0 3 * * 1"),
    ("0 3 * * 1", "Asia/Kolkata", "30 21 * * 0"),
    ("0 3 * * 1", "America/New_York", "0 8 * * 1"),
    ("0 3 * * 1", "Australia/Sydney", "0 17 * * 0"),
    ("30 22 * * FRI", "America/New_York", "30 3 * * 6"),
    ("0 22 * * SUN", "America/New_York", "0 3 * * 1"),
    ("0 20 * * *", "America/New_York", "0 1 * * *"),
    ("0 3,20 * * *", "America/New_York", "0 1,8 * * *"),
    ("0 */6 * * *", "America/New_York", "0 5-23/6 * * *"),
    ("0 * * * *", "Asia/Kolkata", "30 * * * *"),
    ("45 9 * * MON-FRI", "Asia/Kolkata", "15 4 * * MON-FRI"),
    ("0 9 1,15 * *", "Asia/Kolkata", "30 3 1,15 * *"),
    ("0 3 10 1 *", "Asia/Kolkata", "30 21 9 1 *"),
    ("0 3 * * 0,1", "Australia/Sydney", "0 17 * * 0,6"),
    ("0 3 * * 7", "Australia/Sydney", "0 17 * * 6"),
    ("0 20 27 * *", "America/New_York", "0 1 28 * *"),
    ("0 3 2-8 * 1", "Australia/Sydney", "0 17 1-7 * 0"),
    ("*/15 2-4 * JAN-MAR MON-FRI", "Europe/London", "*/15 2-4 * JAN-MAR MON-FRI"),
]

#: (cron, zone, words of the reason)
NOT_EXACT = [
    ("0,45 3 * * *", "Asia/Kolkata", "not every listed minute of every listed hour"),
    ("0 3 1,15 * *", "Asia/Kolkata", "includes the 1st"),
    ("0 3 1 * *", "Australia/Sydney", "includes the 1st"),
    ("0 20 28 * *", "America/New_York", "includes the 28th"),
    ("0 3,20 * * 1", "America/New_York", "others do not"),
    ("0 * * * 1", "Asia/Kolkata", "others do not"),
    ("0 3 * 1 *", "Asia/Kolkata", "month '1'"),
    ("0 3 10 1 MON", "Asia/Kolkata", "month '1'"),
]


@pytest.mark.parametrize("zone", sorted(ZONES))
def test_offsets_come_from_the_database(zone: str) -> None:
    assert offsets(zone) == ZONES[zone]


def test_offsets_never_read_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Frozen:
            raise AssertionError("the clock was read")

    monkeypatch.setattr(dt, "datetime", Frozen)
    assert offsets("Europe/London") == (0, 60)


@pytest.mark.parametrize(("cron", "zone", "utc"), SHIFTS)
def test_shift(cron: str, zone: str, utc: str) -> None:
    result = to_utc(cron, zone)
    assert result.cron == utc
    assert (result.standard_offset, result.daylight_offset) == ZONES[zone]


@pytest.mark.parametrize(("cron", "zone", "utc"), SHIFTS)
def test_the_utc_cron_fires_at_the_same_instants(cron: str, zone: str, utc: str) -> None:
    """Every quarter hour of a leap year (and the New Year around it) at the zone's standard
    offset: the source fires exactly when the UTC cron does."""
    standard, _ = offsets(zone)
    local_zone = dt.timezone(dt.timedelta(minutes=standard))
    source, target = _Cron(cron), _Cron(utc)
    moment = dt.datetime(2027, 12, 30, tzinfo=dt.UTC)
    fired = 0
    while moment < dt.datetime(2029, 1, 2, tzinfo=dt.UTC):
        fires = source.fires(moment.astimezone(local_zone))
        assert fires == target.fires(moment), moment
        fired += fires
        moment += dt.timedelta(minutes=15)
    assert fired, "the cron fires in the year"


@pytest.mark.parametrize(("cron", "zone", "reason"), NOT_EXACT)
def test_not_exact(cron: str, zone: str, reason: str) -> None:
    with pytest.raises(NotExact, match=reason):
        to_utc(cron, zone)


def test_whole_days_and_no_offset_leave_the_text_as_written() -> None:
    assert shift("*/15 2-4 * JAN-MAR MON-FRI", 0) == "*/15 2-4 * JAN-MAR MON-FRI"
    assert shift("5 4 * * sun", 24 * 60) == "5 4 * * sun"


def test_compact_spellings() -> None:
    assert compact(list(range(24)), 1) == "*"
    assert compact([5, 11, 17, 23], 1) == "5-23/6"
    assert compact([1, 2, 3, 8], 1) == "1-3,8"
    assert compact([1, 2], 1) == "1,2"
    assert expand("5/20", 0) == [5, 25, 45]
    assert expand("MON-WED,7", 4) == [0, 1, 2, 3]


def test_describe_offset() -> None:
    assert [describe_offset(m) for m in (330, -300, 0)] == ["UTC+05:30", "UTC-05:00", "UTC+00:00"]


def test_every_zone_of_the_database_has_offsets() -> None:
    """No zone makes the reading fail (zones without daylight saving time give None)."""
    for zone in itertools.islice(sorted(zoneinfo.available_timezones()), 0, None, 7):
        standard, daylight = offsets(zone)
        assert -12 * 60 <= standard <= 14 * 60 and daylight != standard


class _Cron:
    """When a five-field cron fires, by robfig/cron's rule (Kubeflow's scheduler): when both day
    fields are restricted, either may match."""

    def __init__(self, cron: str) -> None:
        self.fields = cron.split()
        self.sets = [set(expand(text, i)) for i, text in enumerate(self.fields)]

    def fires(self, moment: dt.datetime) -> bool:
        minute, hour, dom, month, dow = self.sets
        dom_match, dow_match = moment.day in dom, (moment.weekday() + 1) % 7 in dow
        if self.fields[2] == "*" or self.fields[4] == "*":
            days = dom_match and dow_match
        else:
            days = dom_match or dow_match
        return moment.minute in minute and moment.hour in hour and moment.month in month and days
