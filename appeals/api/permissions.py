"""What an API client may do (its scopes) and which appeals it may see."""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from agencies.models import ApiClient


class HasScope(BasePermission):
    """The view names the scope each method needs in `scopes = {"GET": ...}`; HEAD
    needs GET's. A method the view does not have is let through to DRF, which
    answers 405 with the Allow header (a valid key is still needed first); OPTIONS,
    which DRF answers with the view's name and media types, needs only the key."""

    message = _("This API key does not have the permission for this call.")

    def has_permission(self, request, view) -> bool:
        client = request.auth
        if not isinstance(client, ApiClient) or client.revoked_at is not None:
            return False
        method = "GET" if request.method == "HEAD" else request.method
        if method == "OPTIONS" or not _has_handler(view, method):
            return True
        needed = getattr(view, "scopes", {}).get(method)
        return needed is not None and client.has_scope(needed)


def _has_handler(view, method: str) -> bool:
    name = method.lower()
    return name in view.http_method_names and hasattr(view, name)
