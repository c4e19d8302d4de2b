"""Standardized instruments (PHQ-9, GAD-7) as data: one frozen definition each, and scoring and severity
banding that are generic over the definition, so adding an instrument is adding a definition.

The wording is the instruments' standard English text (both are in the public domain: Pfizer, developed by
Drs. Spitzer, Williams, Kroenke and colleagues; no permission is required to reproduce them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple


class Item(NamedTuple):
    number: int
    text: str
    # Seam for the alerts of issue 15: an item whose positive answer signals risk of self-harm.
    self_harm: bool = False


class Option(NamedTuple):
    value: int
    label: str


class Band(NamedTuple):
    min: int
    max: int
    label: str


class Instrument(NamedTuple):
    code: str
    name: str
    loinc: str  # the panel
    total_loinc: str  # the total score
    instructions: str
    items: tuple[Item, ...]
    options: tuple[Option, ...]
    severity: tuple[Band, ...]

    @property
    def answer_min(self) -> int:
        return min(o.value for o in self.options)

    @property
    def answer_max(self) -> int:
        return max(o.value for o in self.options)

    @property
    def total_min(self) -> int:
        return self.answer_min * len(self.items)

    @property
    def total_max(self) -> int:
        return self.answer_max * len(self.items)

    def total(self, answers: Sequence[int]) -> int:
        """The sum of the answers (already validated: one per item, each an option's value)."""
        if len(answers) != len(self.items):
            raise ValueError(f"{self.code} takes {len(self.items)} answers")
        return sum(answers)

    def severity_of(self, total: int) -> str:
        """The label of the band the total falls in."""
        for band in self.severity:
            if band.min <= total <= band.max:
                return band.label
        raise ValueError(f"{self.code} has no band for its total")

    def present(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "loinc": self.loinc,
            "total_loinc": self.total_loinc,
            "instructions": self.instructions,
            "items": [{"number": i.number, "text": i.text} for i in self.items],
            "options": [{"value": o.value, "label": o.label} for o in self.options],
            "total_min": self.total_min,
            "total_max": self.total_max,
            "severity": [{"min": b.min, "max": b.max, "label": b.label} for b in self.severity],
        }


# Both instruments answer every item on the same four-point frequency scale.
_FREQUENCY = (
    Option(0, "Not at all"),
    Option(1, "Several days"),
    Option(2, "More than half the days"),
    Option(3, "Nearly every day"),
)

PHQ9 = Instrument(
    code="phq9",
    name="PHQ-9 (Patient Health Questionnaire-9)",
    loinc="44249-1",
    total_loinc="44261-6",
    instructions="Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    items=(
        Item(1, "Little interest or pleasure in doing things"),
        Item(2, "Feeling down, depressed, or hopeless"),
        Item(3, "Trouble falling or staying asleep, or sleeping too much"),
        Item(4, "Feeling tired or having little energy"),
        Item(5, "Poor appetite or overeating"),
        Item(6, "Feeling bad about yourself — or that you are a failure or have let yourself or your family down"),
        Item(7, "Trouble concentrating on things, such as reading the newspaper or watching television"),
        Item(
            8,
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so "
            "fidgety or restless that you have been moving around a lot more than usual",
        ),
        Item(9, "Thoughts that you would be better off dead or of hurting yourself in some way", self_harm=True),
    ),
    options=_FREQUENCY,
    severity=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 19, "moderately_severe"),
        Band(20, 27, "severe"),
    ),
)

GAD7 = Instrument(
    code="gad7",
    name="GAD-7 (Generalized Anxiety Disorder-7)",
    loinc="69737-5",
    total_loinc="70274-6",
    instructions="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        Item(1, "Feeling nervous, anxious or on edge"),
        Item(2, "Not being able to stop or control worrying"),
        Item(3, "Worrying too much about different things"),
        Item(4, "Trouble relaxing"),
        Item(5, "Being so restless that it is hard to sit still"),
        Item(6, "Becoming easily annoyed or irritable"),
        Item(7, "Feeling afraid as if something awful might happen"),
    ),
    options=_FREQUENCY,
    severity=(
        Band(0, 4, "minimal"),
        Band(5, 9, "mild"),
        Band(10, 14, "moderate"),
        Band(15, 21, "severe"),
    ),
)

INSTRUMENTS: dict[str, Instrument] = {i.code: i for i in (PHQ9, GAD7)}
# An instrument's total is also recorded as a gauge of this type; POST .../gauges may not use these types.
CODES = frozenset(INSTRUMENTS)


def get(code: str) -> Instrument | None:
    return INSTRUMENTS.get(code)


def catalog() -> dict[str, Any]:
    return {"instruments": [i.present() for i in INSTRUMENTS.values()]}


@cache
def catalog_json() -> str:
    """The catalog as the route sends it: the instruments are constants, so it is serialised once per process
    (the first request), not on every request (at import, a cold start that never lists them would pay)."""
    return json.dumps(catalog(), separators=(",", ":"), ensure_ascii=False)
