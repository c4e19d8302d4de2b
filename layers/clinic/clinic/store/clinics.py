"""Clinics: one item each."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from clinic.store import keys, table

if TYPE_CHECKING:
    from clinic.store.items import ClinicItem


def put_clinic(clinic: ClinicItem) -> None:
    table.put({**clinic, **keys.clinic(clinic["id"])._asdict()}, condition="attribute_not_exists(pk)")


def get_clinic(clinic_id: int) -> ClinicItem | None:
    return cast("ClinicItem | None", table.get(keys.clinic(clinic_id)))
