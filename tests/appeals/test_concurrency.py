"""Registration under concurrency, on PostgreSQL: parallel transactions, real locks."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from agencies.models import Agency
from appeals import services
from appeals.models import Appeal, Event
from tests.factories import staff_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Rollback(Exception):
    pass


def _register(clerk, agency, i):
    return services.register_paper_appeal(
        actor=clerk,
        agency=agency,
        channel="other",
        delivery="post",
        form="written",
        kind="statement",
        applicant_name=f"Applicant {i}",
        applicant_address="Бишкек",
        text="Parallel registration",
        language="ky",
        received_at=timezone.now(),
    )[0]


def test_parallel_registrations_give_numbers_without_gap_or_duplicate():
    clerk = staff_member("clerk")
    agency = Agency.objects.get(slug="gov-apparatus")
    workers, total = 8, 40
    barrier = threading.Barrier(workers)

    def work(i):
        try:
            if i < workers:
                barrier.wait(timeout=30)  # the first wave starts at the same moment
            if i % 5 == 4:
                # This clerk's transaction fails after taking a number: it is given back.
                with pytest.raises(Rollback), transaction.atomic():
                    _register(clerk, agency, i)
                    raise Rollback
                return None
            return _register(clerk, agency, i).registration_number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        numbers = [n for n in pool.map(work, range(total)) if n]

    year = timezone.localdate().year
    committed = sorted(Appeal.objects.values_list("registration_number", flat=True))
    assert len(numbers) == total - total // 5
    assert committed == sorted(numbers)
    assert committed == [f"GA-{year}-{n:06d}" for n in range(1, len(numbers) + 1)]


def test_two_clerks_registering_the_same_submission_end_in_one_registration():
    clerks = [staff_member("clerk"), staff_member("clerk")]
    agency = Agency.objects.get(slug="gov-apparatus")
    appeal = services.submit_appeal(
        submission_key=uuid.uuid4(),
        applicant_name="Асанов Бакыт",
        applicant_phone="+996 555 123 456",
        text="Биздин көчөдө жарык жок.",
        language="ky",
        kind="complaint",
    ).appeal
    barrier = threading.Barrier(2)

    def work(clerk):
        try:
            barrier.wait(timeout=30)
            services.register_appeal(appeal_id=appeal.pk, actor=clerk, agency=agency)
            return "registered"
        except ValidationError:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = sorted(pool.map(work, clerks))

    assert results == ["refused", "registered"]
    appeal.refresh_from_db()
    assert appeal.registration_number == f"GA-{timezone.localdate().year}-000001"
    assert appeal.events.filter(type=Event.Type.REGISTERED).count() == 1
