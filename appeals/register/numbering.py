"""Registration numbers: per registering agency and year, gap-free and without duplicates
under concurrent registration (the counter row is locked).
"""

from django.db import transaction

from agencies.models import Agency
from appeals.models import (
    RegistrationCounter,
)


def next_registration_number(*, agency: Agency, year: int) -> str:
    """The next number of the agency's register for the year: gap-free, no duplicate."""
    return reserve_registration_numbers(agency=agency, year=year, count=1)[0]


def reserve_registration_numbers(*, agency: Agency, year: int, count: int) -> list[str]:
    """The next `count` numbers of the agency's register for the year, in order.

    The counter row is locked until the caller's transaction ends, so concurrent
    registrations queue on it and a rolled-back registration gives its numbers back:
    the register has no gap and no duplicate.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("registration numbers must be reserved inside a transaction")
    counter = _locked_counter(agency=agency, year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return [
        format_registration_number(agency, year, n) for n in range(first, first + count)
    ]


def format_registration_number(agency: Agency, year: int, sequence: int) -> str:
    return f"{agency.code}-{year}-{sequence:06d}"


def note_registration_number(*, agency: Agency, year: int, number: str) -> None:
    """An imported register kept its own number: later numbers must come after it."""
    prefix = f"{agency.code}-{year}-"
    if not number.startswith(prefix) or not number[len(prefix) :].isdigit():
        return
    sequence = int(number[len(prefix) :])
    counter = _locked_counter(agency=agency, year=year)
    if sequence > counter.last_number:
        counter.last_number = sequence
        counter.save(update_fields=["last_number"])


def _locked_counter(*, agency: Agency, year: int) -> RegistrationCounter:
    RegistrationCounter.objects.bulk_create(
        [RegistrationCounter(agency=agency, year=year)], ignore_conflicts=True
    )
    return RegistrationCounter.objects.select_for_update().get(agency=agency, year=year)
