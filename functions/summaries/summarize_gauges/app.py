"""Scheduled job (EventBridge): turns the gauges changed since the last run into daily summaries, and publishes
the alert events their requests left in the outbox."""

from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from clinic import alert_events, summaries
from clinic.logger import logger

# Namespace and service dimension from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME (template.yaml).
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = summaries.run_job(full=bool((event.get("detail") or {}).get("full")))
    # The alert events' retry path: those their request could not publish (transactional outbox).
    result["alert_events_published"] = alert_events.drain()
    metrics.add_metric("AlertEventsRepublished", MetricUnit.Count, result["alert_events_published"])
    metrics.add_metric("ChangesRead", MetricUnit.Count, result["changes_read"])
    metrics.add_metric("GaugesRead", MetricUnit.Count, result["gauges_read"])
    metrics.add_metric("DaysRecomputed", MetricUnit.Count, result["days_recomputed"])
    metrics.add_metric("LatestRewritten", MetricUnit.Count, result["latest_rewritten"])
    # Items the job could not process and set aside for an operator (patients-admin summaries set-aside).
    metrics.add_metric("ItemsSetAside", MetricUnit.Count, result["set_aside"])
    metrics.add_metric("Duration", MetricUnit.Milliseconds, result["duration_ms"])
    logger.info("gauge summaries updated", extra=result)  # counts and times only: no PHI
    return result
