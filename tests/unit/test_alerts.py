"""Alerts: the built-in rules at their edges (pure functions), and clinic rules, the inbox, acknowledge and
resolve, care-team changes and events through the API Gateway events of the local gateway (in-process)."""

from __future__ import annotations

import pytest
from clinic import alerts

# ---- the built-in rules, pure ----

PHQ9_ZERO = [0] * 9


@pytest.mark.parametrize(("item9", "fires"), [(0, False), (1, True), (3, True)])
def test_self_harm_risk_fires_on_phq9_item_9_of_1_or_more(item9: int, fires: bool) -> None:
    answers = [*PHQ9_ZERO[:8], item9]
    assert alerts.self_harm_risk("phq9", answers) is fires
    assert ("self_harm_risk" in alerts.built_in_rules("phq9", answers, sum(answers), None)) is fires


def test_self_harm_risk_is_phq9_item_9_only() -> None:
    assert not alerts.self_harm_risk("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert not alerts.self_harm_risk("gad7", [0, 0, 0, 0, 0, 0, 3])


@pytest.mark.parametrize(
    ("instrument", "total", "fires"),
    [("phq9", 19, False), ("phq9", 20, True), ("phq9", 27, True), ("gad7", 14, False), ("gad7", 15, True)],
)
def test_severe_score_at_its_edges(instrument: str, total: int, fires: bool) -> None:
    assert alerts.severe_score(instrument, total) is fires


@pytest.mark.parametrize(
    ("instrument", "previous", "total", "fires"),
    [
        ("phq9", 5, 9, False),
        ("phq9", 5, 10, True),
        ("phq9", 10, 5, False),
        ("gad7", 2, 5, False),
        ("gad7", 2, 6, True),
        ("phq9", None, 27, False),
    ],
)
def test_worsening_at_its_edges(instrument: str, previous: int | None, total: int, fires: bool) -> None:
    assert alerts.worsening(instrument, total, previous) is fires


def test_built_in_rules_most_urgent_first() -> None:
    answers = [3, 3, 3, 3, 3, 3, 3, 3, 1]
    assert alerts.built_in_rules("phq9", answers, sum(answers), 0) == ["self_harm_risk", "severe_score", "worsening"]
    assert alerts.built_in_rules("phq9", PHQ9_ZERO, 0, None) == []


@pytest.mark.parametrize(
    ("operator", "threshold", "total", "count", "meets"),
    [
        (">=", 8, 24, 3, True),
        (">=", 8, 23.9, 3, False),
        ("<=", 2, 4, 2, True),
        ("<=", 2, 4.2, 2, False),
        (">=", 0, 0, 0, False),
        (">=", 0.3, 0.6, 2, True),
    ],
)
def test_day_mean_comparison_is_exact(operator: str, threshold: float, total: float, count: int, meets: bool) -> None:
    assert alerts.meets(operator, threshold, total, count) is meets
