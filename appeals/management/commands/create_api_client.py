"""Issue a key to a state system: prints the key and the callback secret once."""

from django.core.management.base import BaseCommand, CommandError

from agencies.models import Agency, ApiScope
from appeals.api.clients import create_api_client


class Command(BaseCommand):
    help = (
        "Create an API client of an agency and print its key once (only its hash is "
        "kept). Scopes: " + ", ".join(ApiScope.values)
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--agency", required=True, help="slug of the agency")
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiScope.values,
            required=True,
            help="repeat for several",
        )
        parser.add_argument("--callback-url", default="")

    def handle(self, *args, **options):
        agency = Agency.objects.filter(slug=options["agency"]).first()
        if agency is None:
            raise CommandError(f"no agency with slug {options['agency']!r}")
        issued = create_api_client(
            name=options["name"],
            agency=agency,
            scopes=options["scope"],
            callback_url=options["callback_url"],
        )
        client = issued.client
        self.stdout.write(f"client: {client.name} ({agency.code}), id {client.pk}")
        self.stdout.write(f"key: {issued.key}")
        if client.callback_url:
            self.stdout.write(f"callback secret: {client.callback_secret}")
        self.stdout.write("The key is shown only now; keep it in the client's vault.")
