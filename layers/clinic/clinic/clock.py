"""The one clock of the service, injectable so that age, "today" and default timestamps are testable, and the
contract's date and time formats."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    return _now()


def today() -> date:
    return now().date()


def set_clock(fn: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the real one."""
    global _now
    _now = fn or (lambda: datetime.now(UTC))


def iso(moment: datetime) -> str:
    """The contract's timestamp format: UTC, milliseconds, `Z`, and always a four-digit year (strftime's %Y
    writes year 1 as "1", which neither sorts with the other times nor parses back).

    Raises OverflowError for a moment whose UTC time falls outside years 1-9999."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}."
        f"{utc.microsecond // 1000:03d}Z"
    )


# ASCII digits (\d also matches other scripts' digits).
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def calendar_date(text: str) -> date | None:
    """A real `YYYY-MM-DD` date, or None (date.fromisoformat alone also takes `2024-W01-1` and `20240101`)."""
    if not re.fullmatch(_DATE, text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
