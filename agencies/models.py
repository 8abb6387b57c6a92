"""Agencies (state bodies), staff membership with roles, and the topic classifier."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.core import TimeStampedModel


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
    in the working-day arithmetic (appeals.deadlines)."""

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
