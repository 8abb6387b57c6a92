"""API-key authentication: `Authorization: Api-Key <prefix>.<secret>`."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from agencies.models import ApiClient
from appeals.api.clients import KEY_SCHEME, client_for_key

# last_used_at is written at most this often, not on every call.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(
            "latin-1", errors="replace"
        )
        scheme, _sep, key = header.partition(" ")
        if scheme.lower() != KEY_SCHEME.lower() or not key.strip():
            return None
        client = client_for_key(key.strip())
        if client is None:
            raise exceptions.AuthenticationFailed(_("This API key is not valid."))
        request._request.api_client = client  # for the call log
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This API key has been revoked."))
        now = timezone.now()
        if client.last_used_at is None or (
            now - client.last_used_at > LAST_USED_RESOLUTION
        ):
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return client.user, client

    def authenticate_header(self, request) -> str:
        return KEY_SCHEME


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "appeals.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`, the key printed by create_api_client.",
        }
