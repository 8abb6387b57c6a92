"""What is held about me at its largest (issue 29): the time to collect and render the
personal-data document of one appeal with 100 files and 1,000 openings of its data,
as JSON and as the PDF, in two shapes of the access log: a realistic one (five staff
members over a month) and the worst for the PDF (every opening on a different day, so
nothing groups). Built in one transaction that is rolled back; prints, asserts none.

    createdb -h 127.0.0.1 -U postgres pdata_bench
    .venv/bin/python bench/personal_data.py \\
        --database-url postgres://postgres@127.0.0.1:5432/pdata_bench

The database is migrated first (an empty one is fine).
"""

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--openings", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from agencies.models import Agency, Membership
    from appeals.intake import registration
    from appeals.models import Attachment, PersonalDataAccess
    from appeals.privacy import subject_access

    call_command("migrate", verbosity=0)

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            agency = Agency.objects.get(slug="gov-apparatus")
            users = []
            for n in range(5):
                user = get_user_model().objects.create_user(f"bench-pdata-{n}")
                Membership.objects.create(
                    user=user, agency=agency, role=("clerk", "controller")[n % 2]
                )
                users.append(user)
            appeal, _code = registration.register_paper_appeal(
                actor=users[0],
                agency=agency,
                channel="other",
                delivery="post",
                form="written",
                kind="statement",
                applicant_name="Иванова Мария Петровна",
                applicant_address="Бишкек, ул. Токтогула, 1",
                applicant_email="maria@example.kg",
                text="Третий месяц не выплачивают пособие по уходу за ребёнком.",
                language="ru",
                received_at=timezone.now(),
            )
            Attachment.objects.bulk_create(
                Attachment(
                    appeal=appeal,
                    file=f"appeals/bench/{n}.pdf",
                    original_name=f"документ-{n:03}.pdf",
                    content_type="application/pdf",
                    size=100_000 + n,
                    sha256="0" * 64,
                )
                for n in range(args.files)
            )
            now = timezone.now()
            shapes = {
                "realistic (5 staff, 30 days)": lambda n: (
                    users[n % 5],
                    now - dt.timedelta(minutes=43 * n),
                ),
                "worst (a different day each)": lambda n: (
                    users[n % 5],
                    now - dt.timedelta(days=n, minutes=n),
                ),
            }
            for label, shape in shapes.items():
                PersonalDataAccess.objects.filter(appeal=appeal).delete()
                PersonalDataAccess.objects.bulk_create(
                    PersonalDataAccess(
                        appeal=appeal, user=shape(n)[0], at=shape(n)[1], what="card"
                    )
                    for n in range(args.openings)
                )
                for fmt in ("json", "pdf"):
                    times = []
                    for _ in range(args.rounds):
                        started = time.perf_counter()
                        content = subject_access.issue(appeal_ids=[appeal.pk], fmt=fmt)
                        times.append(time.perf_counter() - started)
                    extra = ""
                    if fmt == "pdf":
                        info = subprocess.run(
                            ["pdfinfo", "-"], input=content, capture_output=True
                        ).stdout.decode()
                        pages = next(
                            (x.split()[-1] for x in info.splitlines() if "Pages:" in x),
                            "?",
                        )
                        extra = f", {pages} pages"
                    print(
                        f"{label:32} {fmt:4} median {statistics.median(times):.2f} s "
                        f"(min {min(times):.2f}, max {max(times):.2f}), "
                        f"{len(content) // 1024} KiB{extra}"
                    )
            raise Rollback
    except Rollback:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
