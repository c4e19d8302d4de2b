"""The instruments as data: every definition is consistent, and scoring and banding hold at every band edge
and for any answers (property tests)."""

from __future__ import annotations

import itertools

import pytest
from clinic import instruments
from clinic.instruments import GAD7, PHQ9, Instrument
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize("instrument", instruments.INSTRUMENTS.values(), ids=lambda i: i.code)
def test_each_definition_is_consistent(instrument: Instrument) -> None:
    assert [i.number for i in instrument.items] == list(range(1, len(instrument.items) + 1))
    assert all(i.text.strip() == i.text and i.text for i in instrument.items)
    values = [o.value for o in instrument.options]
    assert values == list(range(instrument.answer_min, instrument.answer_max + 1))
    assert len({o.label for o in instrument.options}) == len(values)
    # Bands cover the total range in order, without a gap or an overlap.
    bands = instrument.severity
    assert bands[0].min == instrument.total_min
    assert bands[-1].max == instrument.total_max
    assert all(b.min <= b.max for b in bands)
    assert all(later.min == earlier.max + 1 for earlier, later in itertools.pairwise(bands))
    assert len({b.label for b in bands}) == len(bands)
    assert instruments.INSTRUMENTS[instrument.code] is instrument


def test_the_contracts_instruments() -> None:
    assert (len(PHQ9.items), PHQ9.total_min, PHQ9.total_max, PHQ9.loinc, PHQ9.total_loinc) == (
        9,
        0,
        27,
        "44249-1",
        "44261-6",
    )
    assert (len(GAD7.items), GAD7.total_min, GAD7.total_max, GAD7.loinc, GAD7.total_loinc) == (
        7,
        0,
        21,
        "69737-5",
        "70274-6",
    )
    assert [(b.min, b.max, b.label) for b in PHQ9.severity] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately_severe"),
        (20, 27, "severe"),
    ]
    assert [(b.min, b.max, b.label) for b in GAD7.severity] == [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 21, "severe"),
    ]
    assert [i.number for i in PHQ9.items if i.self_harm] == [9]
    assert not any(i.self_harm for i in GAD7.items)
    assert PHQ9.items[8].text == "Thoughts that you would be better off dead or of hurting yourself in some way"
    assert GAD7.items[0].text == "Feeling nervous, anxious or on edge"


def _answers(instrument: Instrument, total: int) -> list[int]:
    """Answers that add up to `total`, filled item by item."""
    out = []
    for _ in instrument.items:
        step = min(instrument.answer_max, total - sum(out))
        out.append(step)
    assert sum(out) == total
    return out


@pytest.mark.parametrize(
    ("instrument", "total", "severity"),
    [
        (PHQ9, 0, "minimal"),
        (PHQ9, 4, "minimal"),
        (PHQ9, 5, "mild"),
        (PHQ9, 9, "mild"),
        (PHQ9, 10, "moderate"),
        (PHQ9, 14, "moderate"),
        (PHQ9, 15, "moderately_severe"),
        (PHQ9, 19, "moderately_severe"),
        (PHQ9, 20, "severe"),
        (PHQ9, 27, "severe"),
        (GAD7, 0, "minimal"),
        (GAD7, 4, "minimal"),
        (GAD7, 5, "mild"),
        (GAD7, 9, "mild"),
        (GAD7, 10, "moderate"),
        (GAD7, 14, "moderate"),
        (GAD7, 15, "severe"),
        (GAD7, 21, "severe"),
    ],
)
def test_scoring_at_every_band_edge_and_the_extremes(instrument: Instrument, total: int, severity: str) -> None:
    answers = _answers(instrument, total)
    assert instrument.total(answers) == total
    assert instrument.severity_of(total) == severity


@st.composite
def scored(draw: st.DrawFn) -> tuple[Instrument, list[int]]:
    instrument = draw(st.sampled_from(list(instruments.INSTRUMENTS.values())))
    answer = st.integers(instrument.answer_min, instrument.answer_max)
    return instrument, draw(st.lists(answer, min_size=len(instrument.items), max_size=len(instrument.items)))


@given(scored())
def test_any_answers_score_to_their_sum_in_exactly_one_band(case: tuple[Instrument, list[int]]) -> None:
    instrument, answers = case
    total = instrument.total(answers)
    assert total == sum(answers)
    assert instrument.total_min <= total <= instrument.total_max
    containing = [b.label for b in instrument.severity if b.min <= total <= b.max]
    assert containing == [instrument.severity_of(total)]


@given(scored(), st.integers(0, 8))
def test_answering_higher_never_lowers_the_band(case: tuple[Instrument, list[int]], index: int) -> None:
    instrument, answers = case
    index %= len(answers)
    higher = [*answers]
    higher[index] = min(instrument.answer_max, higher[index] + 1)
    labels = [b.label for b in instrument.severity]
    before = labels.index(instrument.severity_of(instrument.total(answers)))
    after = labels.index(instrument.severity_of(instrument.total(higher)))
    assert after >= before


def test_a_wrong_number_of_answers_is_refused_by_the_scorer() -> None:
    with pytest.raises(ValueError, match="9 answers"):
        PHQ9.total([0] * 7)
    with pytest.raises(ValueError, match="no band"):
        GAD7.severity_of(22)


def test_the_catalog_is_the_contracts_shape() -> None:
    (phq9, gad7) = instruments.catalog()["instruments"]
    assert [phq9["code"], gad7["code"]] == ["phq9", "gad7"]
    assert set(phq9) == {
        "code",
        "name",
        "loinc",
        "total_loinc",
        "instructions",
        "items",
        "options",
        "total_min",
        "total_max",
        "severity",
    }
    assert phq9["items"][0] == {"number": 1, "text": "Little interest or pleasure in doing things"}
    assert phq9["options"][0] == {"value": 0, "label": "Not at all"}
    assert phq9["severity"][3] == {"min": 15, "max": 19, "label": "moderately_severe"}
    assert (gad7["total_min"], gad7["total_max"]) == (0, 21)
