"""The staff workspace and the Django admin open only after the second factor, for
those who need one (appeals.two_factor)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from . import two_factor
from .views.auth import two_factor_step

# The steps of logging in and out stay open to a half-logged-in user.
OPEN_VIEWS = frozenset(
    {
        "staff:login",
        "staff:logout",
        "staff:two_factor",
        "staff:two_factor_setup",
        "admin:login",
        "admin:logout",
    }
)
GUARDED_NAMESPACES = frozenset({"staff", "admin"})


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or not GUARDED_NAMESPACES & set(match.namespaces):
            return None
        if match.view_name in OPEN_VIEWS:
            return None
        user = request.user
        if not user.is_authenticated or two_factor.is_verified(user):
            return None
        if not two_factor.is_needed(user):
            return None
        return redirect(two_factor_step(user, next_url=request.get_full_path()))
