"""Demo data for `make run`: one clinic with an admin, a supervisor, a provider and a few patients."""

from __future__ import annotations

from typing import Any

from clinic import accounts, patients
from clinic.access import Caller
from clinic.models import NewPatient

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


def seed_demo() -> dict[str, Any]:
    """Creates the demo clinic and returns its ids and the three users' tokens (shown once)."""
    clinic = accounts.create_clinic("Demo Clinic")
    admin = accounts.create_user(clinic["id"], "admin", "Ada Admin")
    supervisor = accounts.create_user(clinic["id"], "supervisor", "Sam Supervisor")
    provider = accounts.create_user(clinic["id"], "provider", "Dr. Pat Provider", supervisor_id=supervisor["id"])
    creator = Caller(user_id=provider["id"], clinic_id=clinic["id"], role="provider")
    created = [patients.create(creator, NewPatient(**fields)) for fields in DEMO_PATIENTS]
    return {
        "clinic_id": clinic["id"],
        "users": {"admin": admin["id"], "supervisor": supervisor["id"], "provider": provider["id"]},
        "tokens": {
            role: accounts.issue_token(user["id"])["token"]
            for role, user in (("admin", admin), ("supervisor", supervisor), ("provider", provider))
        },
        "patient_ids": [p["id"] for p in created],
    }
