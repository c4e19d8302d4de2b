"""Demo data for `make run`: one clinic with an admin, a supervisor, a provider, a few patients, four weeks of
their gauges and a weekly PHQ-9 and GAD-7, and a clinic alert rule with one open urgent alert."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clinic import (
    accounts,
    alert_rules,
    assessments,
    clock,
    gauges,
    instruments,
    latest,
    patient_users,
    patients,
    store,
)
from clinic.access import Caller
from clinic.models.alert_rules import NewAlertRule
from clinic.models.assessments import NewAssessment
from clinic.models.gauges import DEFAULT_SCALES, NewGauge
from clinic.models.patients import NewPatient
from clinic.store import alerts as alert_store

DEMO_PATIENTS = [
    {
        "first_name": "John",
        "last_name": "Doe",
        "date_of_birth": "2010-05-15",
        "gender": "male",
        "phone": "+1-555-123-4567",
        "email": "john@example.com",
        "time_zone": "America/Los_Angeles",
        "address": {"street": "123 Main St", "city": "Anytown", "state": "CA", "zip_code": "12345"},
    },
    {
        "first_name": "Jane",
        "last_name": "Roe",
        "date_of_birth": "1984-11-02",
        "gender": "female",
        "time_zone": "America/New_York",
    },
    {
        "first_name": "Amara",
        "last_name": "Okafor",
        "date_of_birth": "1979-03-21",
        "gender": "female",
        "email": "amara.okafor@example.com",
        "time_zone": "Europe/London",
    },
    {
        "first_name": "Luis",
        "last_name": "Domínguez",
        "date_of_birth": "1992-08-09",
        "gender": "male",
        "time_zone": "America/Mexico_City",
    },
    {
        "first_name": "Kai",
        "last_name": "Nakamura",
        "date_of_birth": "2001-01-30",
        "gender": "non_binary",
        "time_zone": "Asia/Tokyo",
    },
    {"first_name": "Dora", "last_name": "Dorsey", "date_of_birth": "1958-12-12", "gender": "female"},
]


def seed_demo(gauge_days: int | None = None) -> dict[str, Any]:
    """Creates the demo clinic and returns its ids and the tokens (shown once) of its three staff users and
    of a patient user of the first demo patient (made by redeeming an invitation, as a patient's app does).

    `gauge_days`: how many days of gauges each patient gets (default DAYS; 0 for none).
    """
    clinic = accounts.create_clinic("Demo Clinic")
    admin = accounts.create_user(clinic["id"], "admin", "Ada Admin")
    supervisor = accounts.create_user(clinic["id"], "supervisor", "Sam Supervisor")
    provider = accounts.create_user(clinic["id"], "provider", "Dr. Pat Provider", supervisor_id=supervisor["id"])
    creator = Caller(user_id=provider["id"], clinic_id=clinic["id"], role="provider")
    created = [patients.create(creator, NewPatient(**fields)) for fields in DEMO_PATIENTS]
    redeemed = patient_users.redeem(patient_users.invite(creator, created[0])["code"])
    alert = seed_alert(Caller(user_id=admin["id"], clinic_id=clinic["id"], role="admin"), creator, created[0])
    return {
        "clinic_id": clinic["id"],
        "users": {
            "admin": admin["id"],
            "supervisor": supervisor["id"],
            "provider": provider["id"],
            "patient": redeemed["user"]["id"],
        },
        "tokens": {
            **{
                role: accounts.issue_token(user["id"])["token"]
                for role, user in (("admin", admin), ("supervisor", supervisor), ("provider", provider))
            },
            "patient": redeemed["token"],
        },
        "patient_ids": [p["id"] for p in created],
        "gauges": seed_gauges(created, creator.user_id, DAYS if gauge_days is None else gauge_days),
        "assessments": seed_assessments(created, creator, DAYS if gauge_days is None else gauge_days),
        "alert_id": alert["id"],
    }


LOW_MOOD_RULE = {"gauge_type": "mood", "operator": "<=", "threshold": 2, "consecutive_days": 1, "priority": "urgent"}


def seed_alert(admin: Caller, provider: Caller, patient: dict[str, Any]) -> dict[str, Any]:
    """The clinic's rule "a day's mood mean at 2 or below is urgent", and the mood of 1 the provider records for
    the first patient, which opens it (through the same request path as the API: the first gauge of a fresh
    table, id 1). Returns the open alert."""
    alert_rules.create(admin, NewAlertRule(**LOW_MOOD_RULE))
    gauges.record(provider, patient, [NewGauge(gauge_type="mood", value=1)])
    slot = alert_store.open_slots(patient["id"])
    return alert_store.get_alert(int(next(iter(slot.values()))["alert_id"])) or {}


# gauge type -> (local times of day it is usually recorded, level on day 0, change per day, day-to-day noise)
GAUGE_HABITS: dict[str, tuple[tuple[time, ...], float, float, float]] = {
    "sleep_quality": ((time(7, 30),), 5.0, 0.06, 1.4),
    "mood": ((time(9, 0), time(20, 30)), 4.5, 0.08, 1.2),
    "pain": ((time(13, 0),), 6.0, -0.07, 1.0),
    "anxiety": ((time(18, 0),), 7.0, -0.09, 1.3),
    "medication_adherence": ((time(21, 0),), 70.0, 0.8, 12.0),
}
NOTES = {
    "sleep_quality": ["Woke up twice", "Slept through the night"],
    "mood": ["Good day at work", "Felt low in the afternoon", "Walk with a friend helped"],
    "pain": ["Back pain after gardening", "Better after stretching"],
    "anxiety": ["Busy week", "Breathing exercises helped"],
    "medication_adherence": ["Missed the morning dose"],
}
DAYS = 28


def seed_gauges(demo_patients: list[dict[str, Any]], created_by: int, days: int = DAYS) -> int:
    """A few weeks of plausible gauges per patient: each type at its usual local time (give or take
    an hour), trending slowly with day-to-day noise, some days skipped. One BatchWriteItem load in the
    store's own item format; returns how many gauges were written."""
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for patient in demo_patients:
        rng = random.Random(patient["id"])  # the same demo data every start
        tz = ZoneInfo(patient.get("time_zone") or "UTC")
        today = now.astimezone(tz).date()
        direction = rng.choice((1.0, 1.0, -0.5))  # most improve, some get a little worse
        for offset in range(days - 1, -1, -1):
            day = today - timedelta(days=offset)
            for kind, (moments, start, slope, noise) in GAUGE_HABITS.items():
                rows += _day_of(
                    patient, kind, day, tz, rng, moments, start + direction * slope * (days - offset), noise
                )
    gauges = [g for g in rows if g["recorded_at"] <= clock.iso(now)]
    last_id = store.reserve_ids("gauge", len(gauges)) if gauges else 0
    for n, gauge in enumerate(gauges):
        gauge.update(id=last_id - len(gauges) + 1 + n, created_by=created_by)
    store.import_gauges(gauges)
    for patient in demo_patients:  # the bulk load bypasses the latest values: derive them as the summary job does
        latest.refresh(patient["id"], list(GAUGE_HABITS))
    return len(gauges)


def seed_assessments(demo_patients: list[dict[str, Any]], by: Caller, days: int = DAYS) -> int:
    """A PHQ-9 and a GAD-7 a week per patient (10:00 local time), through the API's own domain path (scored,
    with their total gauges and latest values), their answers following the patient's trend."""
    recorded = 0
    now = clock.now()
    for patient in demo_patients:
        rng = random.Random(-patient["id"])
        tz = ZoneInfo(patient.get("time_zone") or "UTC")
        today = now.astimezone(tz).date()
        improving = rng.random() < 0.7
        for offset in range(days - 1, -1, -7):
            moment = datetime.combine(today - timedelta(days=offset), time(10, 0), tzinfo=tz)
            if moment > now:
                continue
            # From moderate towards mild (or a little worse), one answer level at a time.
            level = 1.6 - 0.9 * (days - offset) / days if improving else 1.2 + 0.4 * (days - offset) / days
            for instrument in instruments.INSTRUMENTS.values():
                answers = [
                    min(instrument.answer_max, max(instrument.answer_min, round(rng.gauss(level, 0.7))))
                    for _ in instrument.items
                ]
                if instrument.code == "phq9":
                    answers[8] = 0  # the demo raises no self-harm alert on every start
                new = NewAssessment(instrument=instrument.code, answers=answers, completed_at=clock.iso(moment))
                assessments.record(by, patient, new)
                recorded += 1
    return recorded


def _day_of(
    patient: dict[str, Any],
    kind: str,
    day: date,
    tz: ZoneInfo,
    rng: random.Random,
    moments: tuple[time, ...],
    level: float,
    noise: float,
) -> list[dict[str, Any]]:
    low, high = DEFAULT_SCALES[kind]
    out = []
    for moment in moments:
        if rng.random() < 0.12:  # nobody records every day
            continue
        local = datetime.combine(day, moment, tzinfo=tz) + timedelta(minutes=rng.randint(-50, 50))
        recorded = local.astimezone(UTC).replace(second=rng.randint(0, 59))
        value = round(min(high, max(low, rng.gauss(level, noise))))
        out.append(
            {
                "patient_id": patient["id"],
                "gauge_type": kind,
                "value": value,
                "scale_min": low,
                "scale_max": high,
                "recorded_at": clock.iso(recorded),
                "notes": rng.choice(NOTES[kind]) if rng.random() < 0.08 else None,
                # Recorded in the app a few seconds to a few minutes after the moment it describes.
                "created_at": clock.iso(min(recorded + timedelta(seconds=rng.randint(5, 300)), clock.now())),
            }
        )
    return out
