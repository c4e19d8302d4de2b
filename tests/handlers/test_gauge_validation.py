"""API.md's validation table for gauges: every row gives 422 with the exact body, and no input gives a 5xx."""

from __future__ import annotations

import json
from typing import Any

import pytest
from clinic import store
from gauge_support import Clinic, new_clinic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import frozen

NOW = "2024-03-10T12:00:00.000Z"
MOOD = {"gauge_type": "mood", "value": 5}


def one(**fields: Any) -> dict[str, Any]:
    return {"gauge": {**MOOD, **fields}}


# (request body, the exact 422 errors)
BODIES: list[tuple[Any, dict[str, list[str]]]] = [
    # gauge_type
    (one(gauge_type="Mood!"), {"gauge_type": ["is invalid"]}),
    (one(gauge_type="1mood"), {"gauge_type": ["is invalid"]}),
    (one(gauge_type="a" * 51), {"gauge_type": ["is invalid"]}),
    (one(gauge_type=""), {"gauge_type": ["can't be blank"]}),
    ({"gauge": {"value": 5}}, {"gauge_type": ["can't be blank"]}),
    # value within the default or the given scale
    (one(value=11), {"value": ["must be between 1 and 10"]}),
    (one(value=0.5), {"value": ["must be between 1 and 10"]}),
    (one(gauge_type="pain", value=-1), {"value": ["must be between 0 and 10"]}),
    (one(gauge_type="medication_adherence", value=100.5), {"value": ["must be between 0 and 100"]}),
    (one(gauge_type="steps", value=2, scale_min=2.5, scale_max=7.25), {"value": ["must be between 2.5 and 7.25"]}),
    (one(gauge_type="steps", value=9, scale_min=2.0, scale_max=8.0), {"value": ["must be between 2 and 8"]}),
    (one(value=None), {"value": ["can't be blank"]}),
    ({"gauge": {"gauge_type": "mood"}}, {"value": ["can't be blank"]}),
    # unknown types must give their scale
    (one(gauge_type="steps"), {"scale_min": ["can't be blank"], "scale_max": ["can't be blank"]}),
    (one(gauge_type="steps", scale_min=0), {"scale_max": ["can't be blank"]}),
    (one(gauge_type="steps", scale_max=10), {"scale_min": ["can't be blank"]}),
    # scale_min below scale_max
    (one(gauge_type="steps", scale_min=10, scale_max=10), {"scale_min": ["must be less than scale_max"]}),
    (one(gauge_type="steps", scale_min=10, scale_max=1), {"scale_min": ["must be less than scale_max"]}),
    (one(scale_min=10), {"scale_min": ["must be less than scale_max"]}),
    # recorded_at
    (one(recorded_at="2024-03-10T12:05:01.000Z"), {"recorded_at": ["can't be in the future"]}),
    (one(recorded_at="2024-03-10T13:00:00+00:30"), {"recorded_at": ["can't be in the future"]}),
    (one(recorded_at=""), {"recorded_at": ["can't be blank"]}),
    (one(recorded_at="yesterday"), {"recorded_at": ["must be a valid date-time"]}),
    (one(recorded_at="2024-03-09"), {"recorded_at": ["must be a valid date-time"]}),
    (one(recorded_at="2024-03-09T25:00:00Z"), {"recorded_at": ["must be a valid date-time"]}),
    (one(recorded_at="1899-12-31T23:59:59.999Z"), {"recorded_at": ["must be on or after 1900-01-01"]}),
    (one(recorded_at="1900-01-01T00:30:00+01:00"), {"recorded_at": ["must be on or after 1900-01-01"]}),
    # notes
    (one(notes="x" * 2001), {"notes": ["is too long (maximum is 2000 characters)"]}),
    (one(notes="slept\x00badly"), {"notes": ["is invalid"]}),  # control characters other than tab and line breaks
    (one(notes="slept\x7fbadly"), {"notes": ["is invalid"]}),
    # wrong JSON types
    (one(gauge_type=5), {"gauge_type": ["must be a string"]}),
    (one(value="5"), {"value": ["must be a number"]}),
    (one(value=True), {"value": ["must be a number"]}),
    (one(value=[5]), {"value": ["must be a number"]}),
    (
        one(gauge_type="steps", scale_min="0", scale_max={}),
        {"scale_min": ["must be a number"], "scale_max": ["must be a number"]},
    ),
    (one(notes=7), {"notes": ["must be a string"]}),
    (one(recorded_at=1710072000), {"recorded_at": ["must be a string"]}),
    ({"gauge": "mood"}, {"gauge": ["must be an object"]}),
    ({"gauge": [MOOD]}, {"gauge": ["must be an object"]}),
    ({"gauges": MOOD}, {"gauges": ["must be an array"]}),
    # unknown and read-only fields
    (
        one(id=3, created_at=NOW, patient_id=1),
        {"id": ["is not permitted"], "created_at": ["is not permitted"], "patient_id": ["is not permitted"]},
    ),
    ({**one(), "extra": 1}, {"extra": ["is not permitted"]}),
    ({**one(), "extra": None, "gauge_id": None}, {"extra": ["is not permitted"], "gauge_id": ["is not permitted"]}),
    # the wrapper key
    ({}, {"gauge": ["can't be blank"]}),
    (None, {"gauge": ["can't be blank"]}),
    ([], {"gauge": ["can't be blank"]}),
    ({"gauge": None}, {"gauge": ["can't be blank"]}),
    ({"patient": MOOD}, {"gauge": ["can't be blank"]}),
    # batches: errors indexed, size 1..100
    (
        {"gauges": [MOOD, MOOD, MOOD, {**MOOD, "value": 50}]},
        {"gauges[3].value": ["must be between 1 and 10"]},
    ),
    (
        {"gauges": [{**MOOD, "notes": 1}, MOOD, {"gauge_type": "x", "value": 1}]},
        {
            "gauges[0].notes": ["must be a string"],
            "gauges[2].scale_min": ["can't be blank"],
            "gauges[2].scale_max": ["can't be blank"],
        },
    ),
    ({"gauges": [MOOD] * 101}, {"gauges": ["is too long (maximum is 100 items)"]}),
    ({"gauges": []}, {"gauges": ["can't be blank"]}),
    ({"gauge": MOOD, "gauges": [MOOD]}, {"gauge": ["can't be sent together with gauges"]}),
    # numbers DynamoDB could not store
    (
        one(gauge_type="steps", value=1, scale_min=-1e300, scale_max=1e300),
        {
            "scale_min": ["must be greater than or equal to -1000000000000"],
            "scale_max": ["must be less than or equal to 1000000000000"],
        },
    ),
]

# (query string of GET .../gauges, the exact 422 errors)
LIST_QUERIES = [
    ("start_date=2024-03-02&end_date=2024-03-01", {"end_date": ["must be on or after start_date"]}),
    ("start_date=2024-02-30", {"start_date": ["must be a valid date"]}),
    ("end_date=20240301", {"end_date": ["must be a valid date"]}),
    (
        "start_date=yesterday&end_date=2024-13-01",
        {"start_date": ["must be a valid date"], "end_date": ["must be a valid date"]},
    ),
    ("page_size=0", {"page_size": ["must be greater than or equal to 1"]}),
    ("page_size=501", {"page_size": ["must be less than or equal to 500"]}),
    ("page=15542450677346574336", {"page": ["must be less than or equal to 1000"]}),
    ("page_size=ten", {"page_size": ["is not a number"]}),
    ("page_size=1.5", {"page_size": ["is not a number"]}),
    ("page=1&page=2", {"page": ["is not a number"]}),  # repeated: a list, not an integer (int_type)
    ("page=" + "1" * 4301, {"page": ["is invalid"]}),  # more digits than int() parses (int_parsing_size)
    ("page=0", {"page": ["must be greater than or equal to 1"]}),
    ("order=newest", {"order": ["is not included in the list"]}),
    ("gauge_type=Mood", {"gauge_type": ["is invalid"]}),
    ("cursor=not-a-cursor", {"cursor": ["is invalid"]}),
]

SUMMARY_QUERIES = [
    ("start_date=2024-03-02&end_date=2024-03-01", {"end_date": ["must be on or after start_date"]}),
    ("start_date=2024-02-30", {"start_date": ["must be a valid date"]}),
    ("period=month", {"period": ["is not included in the list"]}),
    ("gauge_type=no-such", {"gauge_type": ["is invalid"]}),
    ("start_date=2022-01-01&end_date=2024-01-03", {"end_date": ["must be within 731 days of start_date"]}),
    # 728 days, but weeks widen to whole weeks first: Monday 2022-01-03 to Sunday 2024-01-07 is 734
    ("period=week&start_date=2022-01-05&end_date=2024-01-03", {"end_date": ["must be within 731 days of start_date"]}),
]


@pytest.fixture
def clinic(aws: Any) -> Clinic:
    return new_clinic()


def _path(patient: dict[str, Any], suffix: str = "") -> str:
    return f"/v1/patients/{patient['id']}/gauges{suffix}"


def test_every_gauge_row_of_the_validation_table(clinic: Clinic) -> None:
    patient = clinic.patient()
    wrong = []
    with frozen(NOW):
        for body, expected in BODIES:
            status, answer = clinic.call("POST", _path(patient), body)
            if (status, answer) != (422, {"errors": expected}):
                wrong.append((json.dumps(body)[:120], status, answer, expected))
    assert wrong == []
    # Nothing of all that was stored.
    assert clinic.call("GET", _path(patient)) == (
        200,
        {"gauges": [], "meta": {"page": 1, "page_size": 100, "has_more": False, "next_cursor": None}},
    )


def test_the_limits_themselves_are_accepted(clinic: Clinic) -> None:
    patient = clinic.patient()
    with frozen(NOW):
        ok = [
            one(recorded_at="2024-03-10T12:05:00.000Z"),  # exactly 5 minutes ahead
            one(notes="n" * 2000),
            one(gauge_type="a" * 50, value=-3, scale_min=-3, scale_max=3),
            one(gauge_type="pain", value=0),
            one(gauge_type="pain", value=0.25),  # a fraction is stored as it is (only vanishing ones are 0)
            one(gauge_type="medication_adherence", value=100),
            one(recorded_at="1900-01-01T00:00:00.000Z"),  # the earliest time
            one(gauge_type="steps", value=10**12, scale_min=-(10**12), scale_max=10**12),  # the storable bounds
            one(gauge_type="steps", value=-(10**12), scale_min=-(10**12), scale_max=10**12),
        ]
        for body in ok:
            status, answer = clinic.call("POST", _path(patient), body)
            assert status == 201, answer
            assert answer["value"] == body["gauge"]["value"]
        status, answer = clinic.call("POST", _path(patient), {"gauges": [MOOD] * 100})
        assert status == 201 and len(answer["gauges"]) == 100
        for size in (1, 500):
            status, answer = clinic.call("GET", _path(patient, f"?page_size={size}"))
            assert status == 200 and answer["meta"]["page_size"] == size
            assert len(answer["gauges"]) == min(size, len(ok) + 100)
    # Summaries over exactly 731 days, and over the widest whole weeks within them (2022-01-03 to 2023-12-31).
    for query in ("start_date=2022-01-01&end_date=2024-01-02", "period=week&start_date=2022-01-05&end_date=2023-12-28"):
        status, answer = clinic.call("GET", _path(patient, f"/summary?{query}"))
        assert status == 200, answer


def test_query_validation(clinic: Clinic) -> None:
    patient = clinic.patient()
    wrong = []
    for suffix, queries in (("", LIST_QUERIES), ("/summary", SUMMARY_QUERIES)):
        for query, expected in queries:
            status, answer = clinic.call("GET", _path(patient, f"{suffix}?{query}"))
            if (status, answer) != (422, {"errors": expected}):
                wrong.append((suffix, query, status, answer))
    assert wrong == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # JSON's 1e400 parses as infinity (Python's json refuses only the words NaN and Infinity): finite_number,
        # which has no message of its own.
        ('{"gauge": {"gauge_type": "mood", "value": 1e400}}', {"value": ["is invalid"]}),
        (
            '{"gauge": {"gauge_type": "steps", "value": 1, "scale_min": -1e400, "scale_max": 1e400}}',
            {"scale_min": ["is invalid"], "scale_max": ["is invalid"]},
        ),
    ],
    ids=["value", "scales"],
)
def test_a_number_beyond_floats_range_is_invalid(clinic: Clinic, raw: str, expected: dict[str, list[str]]) -> None:
    with frozen(NOW):
        assert clinic.call("POST", _path(clinic.patient()), raw=raw.encode()) == (422, {"errors": expected})


def test_a_batch_with_one_bad_gauge_stores_nothing(clinic: Clinic) -> None:
    patient = clinic.patient()
    batch = [{**MOOD, "notes": f"n{i}"} for i in range(10)]
    batch[7] = {**MOOD, "value": 0}
    status, answer = clinic.call("POST", _path(patient), {"gauges": batch})
    assert (status, answer) == (422, {"errors": {"gauges[7].value": ["must be between 1 and 10"]}})
    assert clinic.call("GET", _path(patient))[1]["gauges"] == []


def test_a_batch_that_fails_in_storage_stores_nothing(clinic: Clinic) -> None:
    """All or nothing at the storage level too: one conflicting item cancels the whole transaction."""
    patient = clinic.patient()
    status, first = clinic.call("POST", _path(patient), one(notes="first"))
    assert status == 201
    stored = {k: first[k] for k in ("id", "patient_id", "gauge_type", "value", "scale_min", "scale_max")}
    batch = [
        {**stored, "id": first["id"] + 1000 + i, "recorded_at": NOW, "created_at": NOW, "notes": None} for i in range(5)
    ]
    batch.append({**stored, "recorded_at": first["recorded_at"], "created_at": NOW, "notes": "again"})  # same key
    with pytest.raises(store.NewKeyTaken):
        store.put_gauges(batch)
    listed = clinic.call("GET", _path(patient))[1]["gauges"]
    assert [(g["id"], g["notes"]) for g in listed] == [(first["id"], "first")]


def test_the_recorded_time_may_be_five_minutes_ahead_at_most(clinic: Clinic) -> None:
    patient = clinic.patient()
    with frozen(NOW):
        late = clinic.call("POST", _path(patient), one(recorded_at="2024-03-10T04:04:59-08:00"))
        assert late[0] == 201 and late[1]["recorded_at"] == "2024-03-10T12:04:59.000Z"
        assert clinic.call("POST", _path(patient), one(recorded_at="2024-03-10T04:05:01-08:00")) == (
            422,
            {"errors": {"recorded_at": ["can't be in the future"]}},
        )


def test_a_lowercase_t_and_z_are_accepted(clinic: Clinic) -> None:
    """RFC 3339 (5.6) lets a date-time spell "T" and "Z" in lower case; Python's fromisoformat refuses "z"."""
    patient = clinic.patient()
    with frozen(NOW):
        status, answer = clinic.call("POST", _path(patient), one(recorded_at="2024-03-10t11:30:00z"))
    assert status == 201, answer
    assert answer["recorded_at"] == "2024-03-10T11:30:00.000Z"


# ---- no input gives a 5xx ----

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["mood", "pain", "steps", "", "2024-03-10T11:00:00Z", "2999-01-01T00:00:00Z", "x" * 2001]),
)
_json = st.recursive(
    _scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
    max_leaves=8,
)
_field_names = st.sampled_from(["gauge_type", "value", "scale_min", "scale_max", "recorded_at", "notes", "id", "other"])
_gauge = st.dictionaries(_field_names, _json, max_size=6)
_bodies = st.one_of(
    _json,
    st.builds(lambda g: {"gauge": g}, _gauge),
    st.builds(lambda gs: {"gauges": gs}, st.lists(_gauge, max_size=4)),
)
_queries = st.dictionaries(
    st.sampled_from(["gauge_type", "start_date", "end_date", "order", "page", "page_size", "cursor", "period", "x"]),
    st.one_of(st.text(max_size=12), st.sampled_from(["2024-03-10", "mood", "asc", "0", "500", "-1", "2024-02-29"])),
    max_size=4,
)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=_bodies, query=_queries)
def test_no_input_gives_a_5xx(clinic: Clinic, body: Any, query: dict[str, str]) -> None:
    patient = getattr(clinic, "_fuzzed", None) or clinic.patient(time_zone="America/Los_Angeles")
    clinic._fuzzed = patient  # type: ignore[attr-defined]
    from urllib.parse import urlencode

    with frozen(NOW):
        status, answer = clinic.call("POST", _path(patient), body)
        assert status in (201, 422), (status, answer)
        assert ("errors" in answer) == (status == 422)
        for suffix in ("", "/summary"):
            status, answer = clinic.call("GET", _path(patient, f"{suffix}?{urlencode(query)}"))
            assert status in (200, 422), (suffix, query, status, answer)
            assert isinstance(answer.get("errors") if status == 422 else answer.get("meta"), dict)
