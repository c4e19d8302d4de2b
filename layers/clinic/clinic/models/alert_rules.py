"""The request body of a clinic's alert rule."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictInt

from clinic.models import Number, _Envelope, _Strict
from clinic.models.instrument_codes import NewGaugeType

AlertPriority = Literal["urgent", "high", "normal"]


def _whole(value: Any) -> Any:
    # JSON (and the OpenAPI document's `integer`) does not tell 6 from 6.0: a whole number is accepted either way.
    return int(value) if isinstance(value, float) and value.is_integer() else value


class NewAlertRule(_Strict):
    # Instrument totals have the built-in rules (evaluated with their assessment, without reading the
    # clinic's rules): a clinic rule watches the gauges recorded directly.
    gauge_type: NewGaugeType
    operator: Literal[">=", "<="]
    threshold: Number
    consecutive_days: Annotated[StrictInt, Field(ge=1, le=14), BeforeValidator(_whole)]
    priority: AlertPriority


class AlertRuleRequest(_Envelope):
    alert_rule: NewAlertRule
