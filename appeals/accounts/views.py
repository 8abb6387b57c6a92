"""Staff login: password (locked out by django-axes after repeated failures), then the
second factor for those who need it (appeals.accounts.two_factor): the code of an authenticator
app or a backup code, or the enrolment of an app for someone who has none yet."""

import ipaddress
from urllib.parse import urlencode

import django_otp
from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from appeals.accounts import two_factor
from portal import ratelimit


class CodeForm(forms.Form):
    # Kept beside its two views: nothing else asks for a one-time code.
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "spellcheck": "false"}
        ),
    )


def two_factor_step(user: AbstractBaseUser, *, next_url: str) -> str:
    """Where a logged-in user who still owes the second factor goes: the code, or the
    enrolment of an app when they have none."""
    name = (
        "staff:two_factor" if two_factor.has_device(user) else "staff:two_factor_setup"
    )
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _complete(request: HttpRequest, device) -> None:
    django_otp.login(request, device)
    # A new session key once the login is complete (the half-logged-in key was
    # visible to whoever knew the password).
    request.session.cycle_key()


class StaffLoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Failed attempts from one address, whatever the username (axes counts one
        # username per address); counted on failure only, so a ministry's staff
        # behind one address can all log in at nine.
        limit, _window = settings.PORTAL_RATE_LIMITS["login"]
        if ratelimit.exceeded("login", ratelimit.client_id(request), limit=limit):
            return render(
                request, "staff/login_locked.html", {"rate_limited": True}, status=429
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        limit, window = settings.PORTAL_RATE_LIMITS["login"]
        ratelimit.hit(
            "login", ratelimit.client_id(self.request), limit=limit, window=window
        )
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        if two_factor.is_needed(user):
            return redirect(two_factor_step(user, next_url=self.get_success_url()))
        return response


@sensitive_post_parameters("code")
@never_cache
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of login: a code from the app or a backup code."""
    user = request.user
    next_url = _next_url(request)
    if two_factor.is_verified(user):
        return redirect(next_url)
    if not two_factor.has_device(user):
        if two_factor.is_required(user):
            return redirect(two_factor_step(user, next_url=next_url))
        return redirect(next_url)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.verify_code(user=user, token=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
        else:
            _complete(request, device)
            return redirect(next_url)
    return render(request, "staff/two_factor.html", {"form": form, "next": next_url})


@sensitive_post_parameters("code")
@never_cache
@login_required
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: QR code and secret, confirmed by a first code;
    then the backup codes, shown once."""
    user = request.user
    next_url = _next_url(request)
    if two_factor.has_device(user) and not two_factor.is_verified(user):
        # Knowing the password is not enough to replace someone's app.
        return redirect(two_factor_step(user, next_url=next_url))
    device = two_factor.pending_app_device(user=user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = two_factor.confirm_app_device(
                user=user, device_id=device.pk, token=form.cleaned_data["code"]
            )
        except ValidationError as error:
            form.add_error("code", error)
        else:
            _complete(request, device)
            return render(
                request,
                "staff/two_factor_backup_codes.html",
                {"codes": codes, "next": next_url},
            )
    return render(
        request,
        "staff/two_factor_setup.html",
        {
            "form": form,
            "next": next_url,
            "qr_code": two_factor.qr_code_data_uri(device),
            "secret": two_factor.secret_text(device),
            "required": two_factor.is_required(user),
            "replacing": two_factor.has_device(user),
        },
    )


def locked_out(request: HttpRequest, original_response=None, credentials=None):
    """django-axes' answer to a locked-out username and address: a calm page."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "staff/login_locked.html", {"minutes": minutes}, status=429)


def client_address(request: HttpRequest) -> str | None:
    """The address django-axes keys on: the rate limits' client id, or None when the
    request has none (a test client's forced login)."""
    address = ratelimit.client_id(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address
