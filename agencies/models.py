"""Agencies (state bodies), staff membership with roles, and the topic classifier."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.core import TimeStampedModel


def validate_origins(value: str) -> None:
    """One web origin a line: scheme, host and optional port, nothing after it."""

    for line in value.split():
        parts = urlsplit(line)
        if (
            parts.scheme not in ("https", "http")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
            or "*" in line
            or ";" in line
        ):
            raise ValidationError(
                _("%(origin)s is not a web origin like https://mysite.gov.kg.")
                % {"origin": line},
                code="bad_origin",
            )


class Agency(TimeStampedModel):
    class Kind(models.TextChoices):
        APPARATUS = "apparatus", _("government apparatus")
        MINISTRY = "ministry", _("ministry")
        STATE_COMMITTEE = "state_committee", _("state committee")
        AGENCY = "agency", _("agency")
        SERVICE = "service", _("state service")
        LOCAL_ADMINISTRATION = "local_administration", _("local state administration")
        MAYORS_OFFICE = "mayors_office", _("mayor's office")
        OTHER = "other", _("other body")

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    code = models.CharField(
        _("code"),
        max_length=10,
        unique=True,
        help_text=_("Short code that opens the registration numbers, e.g. GA."),
    )
    name = models.CharField(_("name"), max_length=300)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    kind = models.CharField(
        _("kind"), max_length=32, choices=Kind.choices, default=Kind.AGENCY
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent body"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subordinates",
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The agency's own websites that may frame the embeddable filing form.
    embed_origins = models.TextField(
        _("sites that may embed the filing form"),
        blank=True,
        validators=[validate_origins],
        help_text=_("One origin a line, e.g. https://mvd.gov.kg"),
    )
    # Off by default: an appeal is routed without a person only where the agency
    # opted in, and only above ROUTING_AUTO_THRESHOLD (appeals.suggestions).
    routes_by_suggestion = models.BooleanField(
        _("accepts appeals routed by suggestion"),
        default=False,
        help_text=_(
            "Appeals whose suggested agency is this one, with a probability above the "
            "threshold the administrator set, are routed here without a controller."
        ),
    )

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[A-Z][A-Z0-9]{0,9}$"),
                name="agency_code_upper_alnum",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def embed_origin_list(self) -> list[str]:
        return [origin.rstrip("/") for origin in self.embed_origins.split()]


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        CLERK = "clerk", _("clerk")
        CONTROLLER = "controller", _("controller")
        EXECUTOR = "executor", _("executor")
        HEAD = "head", _("agency head")
        MANAGER = "manager", _("manager")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "agency", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.agency.code} · {self.get_role_display()}"


class StaffProfile(models.Model):
    """What the portal needs to know about a staff member beyond the login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    language = models.CharField(
        _("language of notices"),
        max_length=2,
        choices=settings.LANGUAGES,
        default="ky",
    )
    phone = models.CharField(_("phone for SMS"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)


class Topic(TimeStampedModel):
    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=300)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent topic"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    default_agency = models.ForeignKey(
        Agency,
        verbose_name=_("default agency"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="default_topics",
        help_text=_("Suggested when routing appeals on this topic."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CalendarDay(TimeStampedModel):
    """A day the Government moved for the year: a Saturday made a working day, or a
    working day made a day off. These entries win over weekends and public holidays
    in the working-day arithmetic (appeals.deadlines.calendar)."""

    class Kind(models.TextChoices):
        WORKING_DAY = "working_day", _("working day")
        DAY_OFF = "day_off", _("day off")

    day = models.DateField(_("day"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    reason = models.CharField(
        _("reason"),
        max_length=300,
        help_text=_(
            "As announced, e.g. “Day transferred by Government resolution No. 123 "
            "of 1 December 2025”."
        ),
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["-day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["working_day", "day_off"]),
                name="calendar_day_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} · {self.get_kind_display()}"


class ApiScope(models.TextChoices):
    FILE = "file", _("file appeals on behalf of citizens")
    FORWARD = "forward", _("forward appeals from another body")
    READ_STATUS = "read_status", _("read the status and history of appeals")
    RECEIVE_ANSWERS = "receive_answers", _("receive the texts of answers")


class ApiClient(TimeStampedModel):
    """A state system that calls the API on behalf of one agency.

    The key is shown once; only its SHA-256 is kept (keys are 256-bit random, so a
    fast hash is enough). The callback secret is kept as it is: the portal needs it to
    sign every callback, so it cannot be stored hashed.
    """

    name = models.CharField(_("name"), max_length=200)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="api_clients",
    )
    # The system acts through its own user (a clerk of its agency when it may forward),
    # so the clerks' services check and record it like a person.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_client",
        editable=False,
    )
    scopes = models.JSONField(_("permissions"), default=list, blank=True)
    key_prefix = models.CharField(
        _("key prefix"), max_length=12, unique=True, editable=False
    )
    key_hash = models.CharField(max_length=64, editable=False)
    callback_url = models.URLField(_("callback URL"), blank=True)
    callback_secret = models.CharField(max_length=64, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix})"

    def clean(self) -> None:
        unknown = set(self.scopes or []) - set(ApiScope.values)
        if not isinstance(self.scopes, list) or unknown:
            raise ValidationError(
                {"scopes": _("Unknown permission: %(scopes)s") % {"scopes": unknown}}
            )

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class ApiCallLog(models.Model):
    """One call to the API: who, what, how it ended. No personal data: the path of a
    call carries at most a registration number, never the request body."""

    client = models.ForeignKey(
        ApiClient,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
    )
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    duration_ms = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=100, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")
        ordering = ["-at"]
        indexes = [models.Index(fields=["client", "-at"], name="api_call_client_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"
