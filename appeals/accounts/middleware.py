"""Nothing that needs a login opens before the second factor, for those who need one
(appeals.accounts.two_factor): deny unless verified, whatever the URL, except the steps of
logging in and out and the public pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from appeals.accounts import two_factor
from appeals.accounts.views import two_factor_step

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
# Pages anyone may open without logging in (the citizens' pages, the public statistics,
# the language switch): a half-logged-in member of staff sees them as anyone does.
# Every other view is guarded, so a new page that needs a login is guarded without
# anyone adding it here, and a new public page sends a half-logged-in user to the
# code step until it is listed (tests/appeals/test_second_factor_guard.py keeps this
# list to pages that really are public).
PUBLIC_VIEWS = frozenset(
    {
        "home",
        "accessibility",
        "privacy",
        "set_language",
        "agencies:directory",
        "reports:open_statistics",
        "embed:form",
        "appeals:file",
        "appeals:sent",
        "appeals:receipt_pdf",
        "appeals:track",
        "appeals:status",
        "appeals:rate",
        "appeals:re_review",
        "appeals:answer_letter",
        "appeals:add",
        "appeals:withdraw",
        "appeals:verify",
    }
)
# The API authenticates every call by its client's key, never by the session (its
# UNAUTHENTICATED_USER is None): a browser's half-finished login means nothing there.
PUBLIC_NAMESPACES = frozenset({"api"})


def is_public(view_name: str) -> bool:
    namespace = view_name.split(":", 1)[0] if ":" in view_name else ""
    return view_name in PUBLIC_VIEWS or namespace in PUBLIC_NAMESPACES


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or two_factor.is_verified(user):
            return None
        match = request.resolver_match
        if match is not None and (
            match.view_name in OPEN_VIEWS or is_public(match.view_name)
        ):
            return None
        if not two_factor.is_needed(user):
            return None
        return redirect(two_factor_step(user, next_url=request.get_full_path()))
