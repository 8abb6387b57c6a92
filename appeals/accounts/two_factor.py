"""Two-factor login of staff: who must use it, the authenticator app and backup codes.

Controllers, agency heads and administrators (superusers and anyone with access to the
Django admin) must confirm every login with a code from an authenticator app (TOTP) or
one of their backup codes; everyone else may enrol and is then asked too. Devices are
django-otp's; this module holds the portal's rules around them.
"""

import base64
import logging
import math

import qrcode
import qrcode.image.svg
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from agencies.models import Membership
from appeals.register.permissions import roles_of

logger = logging.getLogger(__name__)

REQUIRED_FOR_ROLES = frozenset({Membership.Role.CONTROLLER, Membership.Role.HEAD})
BACKUP_CODES = 10
APP_DEVICE_NAME = "authenticator"
BACKUP_DEVICE_NAME = "backup codes"


def is_required(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may not work without a second factor."""
    if not user.is_authenticated:
        return False
    return bool(
        user.is_superuser or user.is_staff or roles_of(user) & REQUIRED_FOR_ROLES
    )


def has_device(user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_needed(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether this login must be confirmed: required by role, or chosen by the user."""
    if not user.is_authenticated:
        return False
    return is_required(user) or has_device(user)


def is_verified(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(getattr(user, "is_verified", None) and user.is_verified())


def pending_app_device(*, user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed authenticator device being enrolled (one per user, kept until
    confirmed, so reloading the page shows the same QR code)."""
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    )
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name=APP_DEVICE_NAME, confirmed=False
        )
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, to type into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an SVG QR code in a data: URI (an <img>
    source that the Content-Security-Policy allows; no script involved)."""
    image = qrcode.make(
        device.config_url,
        image_factory=qrcode.image.svg.SvgPathImage,
        border=2,
    )
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _normalised(token: str) -> str:
    return "".join((token or "").split()).lower()


def _wait(device: Device) -> ValidationError | None:
    """The refusal of a device that django-otp throttles after wrong codes (each one
    doubles the wait before the next try), or None when it takes a code now."""
    allowed, details = device.verify_is_allowed()
    locked_until = (details or {}).get("locked_until")
    if allowed or locked_until is None:
        return None
    seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    return ValidationError(
        ngettext(
            "Too many wrong codes: wait %(seconds)s second and try again.",
            "Too many wrong codes: wait %(seconds)s seconds and try again.",
            seconds,
        )
        % {"seconds": seconds},
        code="throttled",
    )


def _wrong_code() -> ValidationError:
    return ValidationError(
        _(
            "This code is not right or has expired. Enter the code your app shows "
            "now, or one of your backup codes."
        ),
        code="wrong_code",
    )


@transaction.atomic
def confirm_app_device(
    *, user: AbstractBaseUser, device_id: int, token: str
) -> tuple[TOTPDevice, list[str]]:
    """Confirm the enrolled app with its first code; return the device and new
    backup codes (shown once). The user's earlier app and backup codes stop working."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False, pk=device_id)
        .first()
    )
    token = _normalised(token)
    if device is not None and (refusal := _wait(device)) is not None:
        raise refusal
    if device is None or not token.isdigit() or not device.verify_token(token):
        raise _wrong_code()
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = issue_backup_codes(user=user)
    logger.info("two-factor app enrolled for user %s", user.pk)
    return device, codes


@transaction.atomic
def issue_backup_codes(
    *, user: AbstractBaseUser, codes: list[str] | None = None
) -> list[str]:
    """Replace the user's backup codes (each works once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(
        user=user, name=BACKUP_DEVICE_NAME, confirmed=True
    )
    codes = codes or [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=code) for code in codes
    )
    return codes


def verify_code(*, user: AbstractBaseUser, token: str) -> Device:
    """The device that accepts this code: six digits are the app's, anything else a
    backup code. Wrong codes slow further attempts down (django-otp's throttling)."""
    token = _normalised(token)
    model = TOTPDevice if token.isdigit() else StaticDevice
    refusal = None
    with transaction.atomic():
        devices = model.objects.select_for_update().filter(user=user, confirmed=True)
        for device in devices:
            # A throttled device would refuse even the right code: say to wait.
            wait = _wait(device)
            if wait is not None:
                refusal = wait
            elif device.verify_token(token):
                return device
    if refusal is not None:
        logger.info("second-factor code too soon for user %s", user.pk)
        raise refusal
    logger.info("wrong second-factor code for user %s", user.pk)
    raise _wrong_code()
