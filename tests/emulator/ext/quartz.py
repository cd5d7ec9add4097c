"""Quartz-style cron expressions, as CodePipeline's DeploymentWindow rule takes them.

The rule reference (rule-reference-DeploymentWindow) documents six required
fields and an optional seventh, separated by white space::

    Seconds  Minutes  Hours  Day-of-month  Month        Day-of-week  [Year]
    *        0-59     0-23   1-31          1-12|JAN-DEC  1-7|SUN-SAT  1970-2199

with ``*`` (all values), ``?`` (no specific value; day-of-month and
day-of-week only), ``-`` ranges, ``,`` lists, ``/`` increments (``*/15``,
``5/15``), ``L`` in day-of-month (last day, ``L-3`` = three days before it)
and in day-of-week (alone = 7/SAT; ``6L`` = the last Friday), ``W`` in
day-of-month (``15W`` = the weekday nearest the 15th, never crossing into
another month; ``LW`` = the last weekday) and ``#`` in day-of-week (``6#3`` =
the third Friday).  Day-of-week counts 1 = SUN .. 7 = SAT, as Quartz does.

Seconds: AWS allows only ``*`` there; any seconds value is accepted and the
field is ignored, because a deployment window is a set of whole minutes.

A window is open at an instant when the instant, in the rule's time zone and
truncated to the minute, matches every field.  As in Quartz, when both
day-of-month and day-of-week are restricted (neither is ``*`` nor ``?``) both
must match (Quartz itself refuses that combination; AWS documents ``?`` for
exactly this reason, so we accept it rather than guess).

``parse`` raises ``ValueError`` with a reason for expressions outside this
grammar; ``CronExpression.matches(datetime)`` answers the question.

Time zones (the rule's ``TimeZone`` configuration, default UTC): ``UTC``,
fixed offsets ``+HH:MM`` / ``-HH:MM`` (also ``UTC+HH:MM``), and IANA zone ids
(``Europe/Berlin``) through the zoneinfo database of the host.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Callable

_MONTHS = {name: i for i, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_DAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}


def _number(token: str, names: dict[str, int], low: int, high: int, what: str) -> int:
    token = token.strip().upper()
    if token in names:
        return names[token]
    if not token.isdigit():
        raise ValueError(f"'{token}' is not a valid {what} value")
    value = int(token)
    if not low <= value <= high:
        raise ValueError(f"{what} value {value} is outside {low}-{high}")
    return value


def _simple_set(text: str, low: int, high: int, what: str, names: dict[str, int] | None = None) -> set[int]:
    """Values of a field made of '*', ranges, lists and increments."""
    names = names or {}
    values: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise ValueError(f"empty list element in the {what} field")
        step = 1
        if "/" in part:
            base, _, step_text = part.partition("/")
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"bad increment '{step_text}' in the {what} field")
            step = int(step_text)
        else:
            base = part
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _number(first, names, low, high, what)
            end = _number(last, names, low, high, what)
            if end < start:
                # Quartz allows wrapping ranges such as FRI-MON
                values.update(range(start, high + 1, step))
                values.update(range(low, end + 1, step))
                continue
        else:
            start = _number(base, names, low, high, what)
            end = high if "/" in part else start
        values.update(range(start, end + 1, step))
    return values


@dataclass
class CronExpression:
    text: str
    minutes: set[int]
    hours: set[int]
    months: set[int]
    years: set[int] | None
    dom_any: bool
    dow_any: bool
    dom_tests: list[Callable[[_dt.date], bool]] = field(default_factory=list)
    dow_tests: list[Callable[[_dt.date], bool]] = field(default_factory=list)

    def _day_matches(self, day: _dt.date) -> bool:
        dom_ok = self.dom_any or any(test(day) for test in self.dom_tests)
        dow_ok = self.dow_any or any(test(day) for test in self.dow_tests)
        return dom_ok and dow_ok

    def matches(self, when: _dt.datetime) -> bool:
        """True when ``when`` (already in the rule's time zone) lies in the window."""
        if self.years is not None and when.year not in self.years:
            return False
        return (when.minute in self.minutes and when.hour in self.hours
                and when.month in self.months and self._day_matches(when.date()))


def _quartz_dow(day: _dt.date) -> int:
    """1 = Sunday .. 7 = Saturday."""
    return (day.isoweekday() % 7) + 1


def _last_day(day: _dt.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(year: int, month: int, target: int) -> int:
    last = calendar.monthrange(year, month)[1]
    target = min(target, last)
    weekday = _dt.date(year, month, target).weekday()  # Mon=0 .. Sun=6
    if weekday < 5:
        return target
    if weekday == 5:  # Saturday: the Friday before, unless that leaves the month
        return target - 1 if target > 1 else target + 2
    return target + 1 if target < last else target - 2  # Sunday


def _dom_tests(text: str) -> tuple[bool, list[Callable[[_dt.date], bool]]]:
    if text in ("*", "?"):
        return True, []
    tests: list[Callable[[_dt.date], bool]] = []
    for part in text.split(","):
        part = part.strip().upper()
        if part == "L":
            tests.append(lambda d: d.day == _last_day(d))
        elif re.fullmatch(r"L-\d{1,2}", part):
            offset = int(part[2:])
            if offset > 30:
                raise ValueError(f"offset in '{part}' is too large")
            tests.append(lambda d, o=offset: d.day == _last_day(d) - o)
        elif part == "LW":
            tests.append(lambda d: d.day == _nearest_weekday(d.year, d.month, _last_day(d)))
        elif re.fullmatch(r"\d{1,2}W", part):
            target = _number(part[:-1], {}, 1, 31, "day-of-month")
            tests.append(lambda d, t=target: d.day == _nearest_weekday(d.year, d.month, t))
        else:
            values = _simple_set(part, 1, 31, "day-of-month")
            tests.append(lambda d, v=frozenset(values): d.day in v)
    return False, tests


def _dow_tests(text: str) -> tuple[bool, list[Callable[[_dt.date], bool]]]:
    if text in ("*", "?"):
        return True, []
    tests: list[Callable[[_dt.date], bool]] = []
    for part in text.split(","):
        part = part.strip().upper()
        if part == "L":
            tests.append(lambda d: _quartz_dow(d) == 7)
        elif re.fullmatch(r"[A-Z0-9]{1,3}L", part):
            day = _number(part[:-1], _DAYS, 1, 7, "day-of-week")
            tests.append(lambda d, w=day: _quartz_dow(d) == w and d.day + 7 > _last_day(d))
        elif "#" in part:
            day_text, _, nth_text = part.partition("#")
            day = _number(day_text, _DAYS, 1, 7, "day-of-week")
            if not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
                raise ValueError(f"'{part}': the number after '#' must be 1-5")
            nth = int(nth_text)
            tests.append(lambda d, w=day, n=nth: _quartz_dow(d) == w and (d.day - 1) // 7 + 1 == n)
        else:
            values = _simple_set(part, 1, 7, "day-of-week", _DAYS)
            tests.append(lambda d, v=frozenset(values): _quartz_dow(d) in v)
    return False, tests


def parse(text: str) -> CronExpression:
    """Parse a 6- or 7-field Quartz cron expression (see the module docstring)."""
    fields = (text or "").split()
    if len(fields) not in (6, 7):
        raise ValueError(f"a cron expression has 6 or 7 fields, not {len(fields)}")
    seconds, minutes, hours, dom, month, dow = fields[:6]
    if not re.fullmatch(r"[0-9*,/\-]+", seconds):
        raise ValueError(f"bad seconds field '{seconds}'")
    if dom == "?" and dow == "?":
        raise ValueError("'?' may be given for day-of-month or day-of-week, not both")
    dom_any, dom_tests = _dom_tests(dom)
    dow_any, dow_tests = _dow_tests(dow)
    years = None
    if len(fields) == 7 and fields[6] not in ("*", "?"):
        years = _simple_set(fields[6], 1970, 2199, "year")
    return CronExpression(
        text=text,
        minutes=_simple_set(minutes, 0, 59, "minutes"),
        hours=_simple_set(hours, 0, 23, "hours"),
        months=_simple_set(month, 1, 12, "month", _MONTHS),
        years=years,
        dom_any=dom_any,
        dow_any=dow_any,
        dom_tests=dom_tests,
        dow_tests=dow_tests,
    )


_OFFSET_RE = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})$")


def time_zone(name: str | None) -> _dt.tzinfo:
    """The tzinfo of a TimeZone configuration value (ValueError when unknown)."""
    name = (name or "UTC").strip()
    if name.upper() in ("UTC", "GMT", "Z"):
        return _dt.timezone.utc
    match = _OFFSET_RE.match(name)
    if match:
        sign, hours, minutes = match.groups()
        if int(hours) > 14 or int(minutes) > 59:
            raise ValueError(f"time zone offset '{name}' is out of range")
        delta = _dt.timedelta(hours=int(hours), minutes=int(minutes))
        return _dt.timezone(delta if sign == "+" else -delta)
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:
        raise ValueError(f"unknown time zone '{name}'")


def window_open(cron: str, zone: str | None, when: _dt.datetime) -> bool:
    """Is the deployment window ``cron`` (in time zone ``zone``) open at ``when``?"""
    return parse(cron).matches(when.astimezone(time_zone(zone)))
