"""`python manage.py signing_demo_ca`: the demonstration certificate authority that
signs the portal's letters under `make run`; creates what is missing, safe to run twice."""

from django.conf import settings
from django.core.management.base import BaseCommand

from portal import signing_demo


class Command(BaseCommand):
    help = (
        "Create once, under SIGNING_DEMO_DIR, a demo root CA, a time-stamping "
        "certificate, the portal's signing certificate and one per agency code given "
        "(default GA). FOR DEMONSTRATION ONLY: never configure them in production."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agency", action="append", default=None, metavar="CODE")

    def handle(self, *args, agency: list[str] | None, **options):
        directory = settings.SIGNING_DEMO_DIR
        created = signing_demo.ensure(directory, agency_codes=tuple(agency or ["GA"]))
        if created:
            names = ", ".join(path.name for path in created)
            self.stdout.write(
                f"Demo signing certificates created in {directory}: {names}"
            )
        else:
            self.stdout.write(f"Demo signing certificates already in {directory}.")
        self.stdout.write(
            f"They are {signing_demo.DEMO_MARK} (password "
            f"{signing_demo.DEMO_PASSWORD!r}); the portal signs with them only while "
            "PORTAL_SIGNING_P12 is unset and SIGNING_USE_DEMO (DEBUG) is on."
        )
