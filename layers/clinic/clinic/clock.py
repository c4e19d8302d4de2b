"""The one clock of the service, injectable so that age, "today" and default timestamps are testable."""

from __future__ import annotations

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
    """The contract's timestamp format: UTC, milliseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
