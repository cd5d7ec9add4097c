"""A settable clock for the emulator.

moto stamps everything with the real time.  Seeds and tests need history that
spans days (approvals on different dates, CloudTrail log files in different
YYYY/MM/DD folders), so our extensions read the time from here instead.

``set_now(dt)`` makes the clock read ``dt`` at that instant and then run on
in real time (so consecutive events keep a meaningful order and spacing);
``reset()`` goes back to the real time.  The control endpoint
``POST /_emulator/clock`` (server.py) drives it.
"""

from __future__ import annotations

import datetime as _dt
import threading

_lock = threading.Lock()
_offset = _dt.timedelta(0)


def _real_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def now() -> _dt.datetime:
    """The emulated current time (timezone-aware, UTC)."""
    with _lock:
        return _real_now() + _offset


def set_now(when: _dt.datetime) -> None:
    """Make now() return ``when`` from this instant on (then it runs on)."""
    global _offset
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    with _lock:
        _offset = when - _real_now()


def reset() -> None:
    """Back to the real time."""
    global _offset
    with _lock:
        _offset = _dt.timedelta(0)


def parse_iso(text: str) -> _dt.datetime:
    """Parse '2026-05-01T10:00:00Z' (and other ISO-8601 forms) to UTC."""
    value = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def epoch(when: _dt.datetime) -> float:
    """Seconds since the epoch, as AWS JSON protocols serialise timestamps.

    Naive datetimes (moto's own) are taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return round(when.timestamp(), 3)


def iso_z(when: _dt.datetime) -> str:
    """CloudTrail's eventTime format: 2026-05-01T10:00:00Z."""
    return when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
