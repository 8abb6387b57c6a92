"""Revoke an API client's key at once (by its key prefix)."""

from django.core.management.base import BaseCommand, CommandError

from agencies.models import ApiClient
from appeals.api.clients import revoke_api_client


class Command(BaseCommand):
    help = "Revoke the API key with this prefix (the part before the dot)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")

    def handle(self, *args, **options):
        client = ApiClient.objects.filter(key_prefix=options["prefix"]).first()
        if client is None:
            raise CommandError(f"no API client with key prefix {options['prefix']!r}")
        revoke_api_client(client=client)
        self.stdout.write(f"revoked: {client}")
