"""Appeals, their history, attachments, registration counters and the notification outbox."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Topic
from portal.core import TimeStampedModel


class Channel(models.TextChoices):
    PRESIDENT_OFFICE = "president_office", _("forwarded by the President's Office")
    JOGORKU_KENESH = "jogorku_kenesh", _("forwarded by the Jogorku Kenesh")
    PUBLIC_RECEPTION = "public_reception", _("handed in at the public reception")
    PORTAL = "portal", _("through the electronic portal")
    OTHER = "other", _("other means of communication")


class Delivery(models.TextChoices):
    POST = "post", _("post")
    EXPEDITION = "expedition", _("expedition")
    FIELD_COURIER = "field_courier", _("field courier")
    COURIER = "courier", _("courier delivery")
    BOX = "box", _("correspondence box in Government House")


class Form(models.TextChoices):
    WRITTEN = "written", _("written")
    ORAL = "oral", _("oral")


class Kind(models.TextChoices):
    PROPOSAL = "proposal", _("proposal")
    STATEMENT = "statement", _("statement")
    COMPLAINT = "complaint", _("complaint")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    REGISTERED = "registered", _("registered")
    ROUTED = "routed", _("sent to the agency")
    IN_PROGRESS = "in_progress", _("in progress")
    CLOSED = "closed", _("closed")
    RE_REVIEW = "re_review", _("under re-review")


class Outcome(models.TextChoices):
    SUPPORTED = "supported", _("supported")
    EXPLAINED = "explained", _("explained")
    NOT_SUPPORTED = "not_supported", _("not supported")
    FORWARDED = "forwarded", _("forwarded to another body")
    LEFT_WITHOUT_CONSIDERATION = (
        "left_without_consideration",
        _("left without consideration"),
    )
    WITHDRAWN = "withdrawn", _("withdrawn by the citizen")


class InadmissibilityGround(models.TextChoices):
    """The legal grounds on which an appeal may be left without consideration."""

    NO_NAME_OR_ADDRESS = (
        "no_name_or_address",
        _("no name or no address for the answer"),
    )
    UNREADABLE = "unreadable", _("the text cannot be read")
    OFFENSIVE = "offensive", _("obscene or insulting language")
    REPEATED = (
        "repeated",
        _("repeats a matter already answered, with no new arguments"),
    )
    FOR_A_COURT = "for_a_court", _("the matter is for a court or decided by one")


class Language(models.TextChoices):
    KY = "ky", "Кыргызча"
    RU = "ru", "Русский"
    EN = "en", "English"


# Statuses in which an appeal is on the register and so must carry its number.
REGISTERED_STATUSES = (
    Status.REGISTERED,
    Status.ROUTED,
    Status.IN_PROGRESS,
    Status.RE_REVIEW,
)
# Foreign keys of Appeal left empty on most rows: indexed only where set (Meta).
PARTIALLY_INDEXED = (
    "registered_by",
    "received_by",
    "addressee",
    "topic",
    "repeat_of",
    "mass_lead",
)


class Appeal(TimeStampedModel):
    # Citizen-facing identifiers: random, so a tracking number reveals nothing and
    # the access code (only its hash is stored) cannot be guessed.
    tracking_number = models.CharField(_("tracking number"), max_length=16, unique=True)
    access_code_hash = models.CharField(max_length=128, blank=True, editable=False)
    submission_key = models.UUIDField(
        null=True, blank=True, unique=True, editable=False
    )

    # The register.
    registration_number = models.CharField(
        _("registration number"), max_length=32, null=True, blank=True, unique=True
    )
    registering_agency = models.ForeignKey(
        Agency,
        verbose_name=_("registering agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # appeal_journal_*_idx lead with it
        related_name="registered_appeals",
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # appeal_registered_by_idx, partial
        related_name="+",
    )

    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices)
    delivery = models.CharField(
        _("delivery method"), max_length=32, choices=Delivery.choices, blank=True
    )
    form = models.CharField(
        _("form"), max_length=16, choices=Form.choices, default=Form.WRITTEN
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    outcome = models.CharField(
        _("outcome"), max_length=32, choices=Outcome.choices, blank=True
    )
    outcome_reason = models.TextField(_("reason"), blank=True)
    # Set when the appeal is left without consideration.
    inadmissibility_ground = models.CharField(
        _("legal ground"),
        max_length=32,
        choices=InadmissibilityGround.choices,
        blank=True,
    )
    # Non-binding hints for the clerk and the controller, computed when the appeal
    # arrives: [{"code": ..., "detail": ...}]; they never decide anything.
    flags = models.JSONField(_("flags"), default=list, blank=True, editable=False)

    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    # The Bishkek calendar day of received_at, stored so reports group by an index.
    # appeal_intake_idx (received_on, channel, form) serves it: no index of its own.
    received_on = models.DateField(_("date received"))
    backdate_reason = models.TextField(_("reason for an earlier date"), blank=True)
    cover_letter_number = models.CharField(
        _("cover letter number"), max_length=64, blank=True
    )
    cover_letter_date = models.DateField(_("cover letter date"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received the citizen"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # appeal_received_by_idx, partial
        related_name="+",
    )

    applicant_name = models.CharField(_("full name"), max_length=300)
    applicant_address = models.CharField(_("address"), max_length=500, blank=True)
    applicant_phone = models.CharField(_("phone"), max_length=32, blank=True)
    applicant_email = models.EmailField(_("e-mail"), blank=True)
    # Normalised by appeals.register.matching, to find earlier appeals of the same applicant.
    applicant_name_key = models.CharField(max_length=300, blank=True, editable=False)
    applicant_phone_key = models.CharField(max_length=16, blank=True, editable=False)
    is_collective = models.BooleanField(_("collective appeal"), default=False)
    signatories = models.PositiveIntegerField(_("number of signatories"), default=1)
    consent_at = models.DateTimeField(
        _("consent to processing of personal data"), null=True, blank=True
    )
    consent_version = models.ForeignKey(
        "ConsentVersion",
        verbose_name=_("consent text accepted"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    addressee = models.ForeignKey(
        Agency,
        verbose_name=_("addressee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # appeal_addressee_idx, partial
        related_name="addressed_appeals",
        help_text=_("Empty when the citizen does not know which body is competent."),
    )
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("topic"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # appeal_topic_idx, partial
        related_name="appeals",
    )
    text = models.TextField(_("text"), blank=True)
    language = models.CharField(
        _("language of the appeal"),
        max_length=2,
        choices=Language.choices,
        default=Language.KY,
    )
    lead_agency = models.ForeignKey(
        Agency,
        verbose_name=_("lead agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # appeal_lead_intake_idx leads with it
        related_name="led_appeals",
    )
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("repeat of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # appeal_repeat_of_idx, partial
        related_name="repeats",
    )
    # A mass appeal: many applicants, one matter. Members point at the group's lead
    # appeal, and the lead's approved answer goes to every member.
    mass_lead = models.ForeignKey(
        "self",
        verbose_name=_("mass appeal group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # appeal_mass_lead_idx, partial
        related_name="mass_members",
    )
    is_imported = models.BooleanField(_("imported from an old register"), default=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    extended_at = models.DateTimeField(_("extended at"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    # The last day of the review period (appeals.deadlines.calendar): set at registration,
    # recomputed on extension and re-review. "Due soon" and "overdue" derive from it.
    due_on = models.DateField(_("due by"), null=True, blank=True)
    # The due date the daily sweep last escalated as missed (so it escalates once).
    escalated_for = models.DateField(null=True, blank=True, editable=False)
    forwarded_to = models.CharField(_("forwarded to"), max_length=300, blank=True)
    forwarding_letter_number = models.CharField(
        _("outgoing letter number"), max_length=64, blank=True
    )
    # Set when the retention period removed the applicant's data (appeals.privacy.retention).
    personal_data_removed_at = models.DateTimeField(
        _("personal data removed at"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_collective=False, signatories=1)
                | Q(is_collective=True, signatories__gte=2),
                name="appeal_signatories_match_collective",
            ),
            # Records imported from old registers are closed with no known outcome.
            models.CheckConstraint(
                condition=(
                    Q(status=Status.CLOSED) & (~Q(outcome="") | Q(is_imported=True))
                )
                | (~Q(status=Status.CLOSED) & Q(outcome="")),
                name="appeal_outcome_iff_closed",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.SUBMITTED) | Q(channel=Channel.PORTAL),
                name="appeal_only_portal_waits_submitted",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=REGISTERED_STATUSES)
                | Q(registration_number__isnull=False),
                name="appeal_registered_has_number",
            ),
            models.CheckConstraint(
                condition=Q(delivery="") | Q(channel=Channel.OTHER),
                name="appeal_delivery_only_for_other",
            ),
        ]
        indexes = [
            # Reports: received appeals of a period by channel and form.
            models.Index(
                fields=["received_on", "channel", "form"], name="appeal_intake_idx"
            ),
            # The clerks' queue of portal submissions, oldest first.
            models.Index(
                fields=["received_at"],
                name="appeal_submitted_queue_idx",
                condition=Q(status=Status.SUBMITTED),
            ),
            # The controllers' queue.
            models.Index(
                fields=["received_at"],
                name="appeal_registered_queue_idx",
                condition=Q(status__in=[Status.REGISTERED, Status.RE_REVIEW]),
            ),
            # Deadline sweeps and overdue lists over the open appeals only.
            models.Index(
                fields=["due_on"],
                name="appeal_open_due_idx",
                condition=Q(
                    status__in=["registered", "routed", "in_progress", "re_review"]
                ),
            ),
            # Reports: the open (and overdue) appeals of a period, counted live since
            # they depend on today (the rest comes from reports' rollup); index-only.
            models.Index(
                fields=["received_on", "due_on"],
                include=["registering_agency", "lead_agency"],
                name="appeal_open_intake_idx",
                condition=Q(
                    status__in=["registered", "routed", "in_progress", "re_review"]
                ),
            ),
            # The agency inbox as lead agency (appeals.casework.worklists.inbox_page): the
            # agency's open appeals in registration order, tab and counts from the
            # index alone. Only open ones: the agency's history stays out of it.
            models.Index(
                fields=["lead_agency", "registered_at", "id"],
                include=["status", "due_on"],
                name="appeal_inbox_lead_idx",
                condition=Q(status__in=["routed", "in_progress"]),
            ),
            # Reports: appeals routed to an agency as lead, in a period.
            models.Index(
                fields=["lead_agency", "received_on"], name="appeal_lead_intake_idx"
            ),
            # Figures: appeals answered (closed) in a period.
            models.Index(
                fields=["closed_at"],
                name="appeal_closed_at_idx",
                condition=Q(status="closed"),
            ),
            # The retention sweep: closed appeals whose personal data is still kept,
            # oldest first (small: a few years of closed appeals, never the archive).
            models.Index(
                fields=["closed_at"],
                name="appeal_retention_idx",
                condition=Q(status="closed", personal_data_removed_at__isnull=True),
            ),
            # The API's list of an agency's appeals: keyset pages on (received_at, id).
            models.Index(fields=["received_at", "id"], name="appeal_received_at_idx"),
            # Earlier appeals of the same applicant (repeats).
            models.Index(fields=["applicant_name_key"], name="appeal_applicant_idx"),
            # Registration journal of one agency, newest first (keyset pagination).
            models.Index(
                fields=["registering_agency", "-received_on", "-id"],
                name="appeal_journal_idx",
            ),
            # The journal of one agency and one status.
            models.Index(
                fields=["registering_agency", "status", "-received_on", "-id"],
                name="appeal_journal_status_idx",
            ),
            # The journal's applicant filter: a prefix of the normalised name (LIKE
            # 'key%' needs the pattern operator class under a non-C collation).
            models.Index(
                fields=["registering_agency", "applicant_name_key"],
                name="appeal_journal_applicant_idx",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
            # The foreign keys that are empty on most rows (every imported one among
            # them) are indexed where set only: what PROTECT and the reverse look-ups
            # (`= id`) read, without an entry per row for every write to pay for. The
            # registering and lead agency need none of their own (the journal and
            # lead-intake indexes lead with them).
            *(
                models.Index(
                    fields=[field],
                    name=f"appeal_{field}_idx",
                    condition=Q(**{f"{field}__isnull": False}),
                )
                for field in PARTIALLY_INDEXED
            ),
        ]

    def __str__(self) -> str:
        return self.registration_number or self.tracking_number

    @property
    def applicant_label(self) -> str:
        """The applicant's name for staff pages, or a note that the retention period
        removed it (an empty cell would look like a registration mistake)."""
        if not self.applicant_name and self.personal_data_removed_at:
            return str(_("personal data removed after the retention period"))
        return self.applicant_name

    @property
    def is_answered(self) -> bool:
        return self.status == Status.CLOSED and self.outcome in (
            Outcome.SUPPORTED,
            Outcome.EXPLAINED,
            Outcome.NOT_SUPPORTED,
        )

    # Django's get_FOO_display builds a dict of every choice on each call, hashing
    # (so translating) every label; the inbox and the journal call these per row.
    def get_status_display(self) -> str:
        return str(_STATUS_LABELS.get(self.status, self.status))

    def get_kind_display(self) -> str:
        return str(_KIND_LABELS.get(self.kind, self.kind))


_STATUS_LABELS = dict(Status.choices)  # value -> lazy label, translated when shown
_KIND_LABELS = dict(Kind.choices)


class Event(models.Model):
    """One step of an appeal's history: who did what, when."""

    class Type(models.TextChoices):
        SUBMITTED = "submitted", _("submitted through the portal")
        REGISTERED = "registered", _("registered")
        LEFT_WITHOUT_CONSIDERATION = (
            "left_without_consideration",
            _("left without consideration"),
        )
        IMPORTED = "imported", _("imported from an old register")
        LINKED_REPEAT = "linked_repeat", _("linked as a repeated appeal")
        GROUPED = "grouped", _("grouped with a mass appeal")
        ROUTED = "routed", _("sent to the agency")
        FORWARDED = "forwarded", _("forwarded to another body")
        ASSIGNED = "assigned", _("executor assigned")
        RETURNED = "returned", _("returned as outside the agency's competence")
        CONTRIBUTED = "contributed", _("co-executor's input sent")
        ANSWER_SUBMITTED = "answer_submitted", _("answer submitted for approval")
        ANSWER_SENT_BACK = "answer_sent_back", _("answer sent back for revision")
        EXTENDED = "extended", _("deadline extended")
        OVERDUE = "overdue", _("deadline missed")
        ANSWERED = "answered", _("answered")
        RE_REVIEW_REQUESTED = "re_review_requested", _("re-review requested")
        RATED = "rated", _("answer rated by the citizen")
        NOTIFIED = "notified", _("citizen notified")
        PERSONAL_DATA_REMOVED = (
            "personal_data_removed",
            _("personal data removed under the retention period"),
        )
        ACCESS_CODE_REISSUED = "access_code_reissued", _("access code issued anew")
        ADDED_BY_CITIZEN = "added_by_citizen", _("information added by the citizen")
        WITHDRAWN = "withdrawn", _("withdrawn by the citizen")
        PERSONAL_DATA_ISSUED = (
            "personal_data_issued",
            _("personal data issued to the data subject"),
        )

    appeal = models.ForeignKey(
        Appeal,
        on_delete=models.CASCADE,
        db_index=False,  # event_appeal_at_idx leads with it
        related_name="events",
    )
    type = models.CharField(_("event"), max_length=40, choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # event_actor_idx, partial
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    data = models.JSONField(default=dict, blank=True)
    is_public = models.BooleanField(
        default=True, help_text=_("Shown to the citizen on the tracking page.")
    )

    class Meta:
        verbose_name = _("history event")
        verbose_name_plural = _("history events")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["appeal", "at"], name="event_appeal_at_idx"),
            # Figures: events of one type in a period (returns, escalations).
            models.Index(fields=["type", "at"], name="event_type_at_idx"),
            # Events by a person (PROTECT): not the system's or an import's.
            models.Index(
                fields=["actor"],
                name="event_actor_idx",
                condition=Q(actor__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} {self.type} {self.at:%Y-%m-%d %H:%M}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the citizen's file name on disk: a random name, the sniffed extension.
    suffix = PurePath(filename).suffix.lower()[:8]
    return f"appeals/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(TimeStampedModel):
    class Purpose(models.TextChoices):
        CITIZEN = "citizen", _("attached by the citizen")
        SCAN = "scan", _("scan of the original")
        ANSWER = "answer", _("answer")

    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="attachments"
    )
    purpose = models.CharField(
        max_length=16, choices=Purpose.choices, default=Purpose.CITIZEN
    )
    # Files the citizen added after filing belong to that addition.
    addition = models.ForeignKey(
        "Addition",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class RegistrationCounter(models.Model):
    """The last registration number issued by an agency in a year (row-locked)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year"], name="registration_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.year}: {self.last_number}"


class Notification(TimeStampedModel):
    """The outbox: a message to send, written in the same transaction as its cause."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    appeal = models.ForeignKey(
        Appeal,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")
        SMS = "sms", _("SMS")
        # A signed JSON post to an API client's callback URL (appeals.notifications.callbacks).
        CALLBACK = "callback", _("callback to a state system")

    template = models.CharField(max_length=64)
    channel = models.CharField(
        max_length=8, choices=Channel.choices, default=Channel.EMAIL
    )
    # An e-mail address or a phone number, as the channel needs.
    recipient = models.CharField(max_length=254)
    # A staff member's notice (reminders, escalations, digests); empty for citizens.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    # The state system a callback goes to (channel "callback").
    api_client = models.ForeignKey(
        "agencies.ApiClient",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="callbacks",
    )
    # Set for notices a periodic sweep sends, so running it twice sends nothing twice.
    dedup_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    language = models.CharField(max_length=2, choices=Language.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # A file of the appeal's storage sent with the message (the answer letter).
    attachment = models.CharField(max_length=200, blank=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The sweep that re-sends what a lost task message left pending.
            models.Index(
                fields=["next_attempt_at"],
                name="notification_pending_idx",
                condition=Q(state="pending"),
            ),
            # Callbacks go out in order: is an earlier one of the same appeal and
            # client still pending?
            models.Index(
                fields=["api_client", "appeal", "id"],
                name="notification_callback_idx",
                condition=Q(state="pending", api_client__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient} ({self.state})"


class ApiRequest(models.Model):
    """A write call of an API client under its Idempotency-Key: a retry with the same
    key and body gets the stored response, a different body with the key is refused.
    It also records which appeals a client filed or forwarded (they may follow them)."""

    client = models.ForeignKey(
        "agencies.ApiClient", on_delete=models.CASCADE, related_name="requests"
    )
    idempotency_key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=32)
    body_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The answer without the citizen's access code: kept for 30 days (and in backups),
    # so the code is never stored; a replay issues a new one (api.views._idempotent).
    response_body = models.JSONField(null=True, blank=True)
    access_code_withheld = models.BooleanField(default=False)
    appeal = models.ForeignKey(
        Appeal,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_requests",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "idempotency_key"], name="api_request_key_unique"
            ),
        ]
        indexes = [
            # Callbacks: the clients that filed or forwarded an appeal.
            models.Index(fields=["appeal", "client"], name="api_request_appeal_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.endpoint} {self.idempotency_key}"


class Assignment(TimeStampedModel):
    """An agency's part in answering an appeal: the lead agency or a co-executor."""

    class Role(models.TextChoices):
        LEAD = "lead", _("lead agency")
        CO_EXECUTOR = "co_executor", _("co-executor")

    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="assignments"
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    cover_note = models.TextField(_("cover note"), blank=True)
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    executor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("executor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignments",
    )
    is_active = models.BooleanField(default=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["appeal", "agency"],
                condition=Q(is_active=True),
                name="assignment_one_active_per_agency",
            ),
            models.UniqueConstraint(
                fields=["appeal"],
                condition=Q(is_active=True, role="lead"),
                name="assignment_one_active_lead",
            ),
        ]
        indexes = [
            # The agency inbox: active assignments of one agency.
            models.Index(
                fields=["agency", "appeal"],
                name="assignment_inbox_idx",
                condition=Q(is_active=True),
            ),
            # The agency inbox as co-executor (lead appeals come from the appeals'
            # appeal_inbox_lead_idx).
            models.Index(
                fields=["agency", "appeal"],
                name="assignment_co_executor_idx",
                condition=Q(is_active=True, role="co_executor"),
            ),
            # An executor's own appeals.
            models.Index(
                fields=["executor", "appeal"],
                name="assignment_executor_idx",
                condition=Q(is_active=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} → {self.agency_id} ({self.role})"


class Answer(TimeStampedModel):
    """The lead agency's answer: drafted by the executor, approved by the head."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")
        SUBMITTED = "submitted", _("awaiting approval")
        RETURNED = "returned", _("sent back for revision")
        APPROVED = "approved", _("approved")

    OUTCOMES = [
        (Outcome.SUPPORTED, Outcome.SUPPORTED.label),
        (Outcome.EXPLAINED, Outcome.EXPLAINED.label),
        (Outcome.NOT_SUPPORTED, Outcome.NOT_SUPPORTED.label),
    ]

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="answers")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("text of the answer"))
    outcome = models.CharField(_("outcome"), max_length=32, choices=OUTCOMES)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.DRAFT
    )
    review_comment = models.TextField(_("comments of the head"), blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    letter = models.FileField(upload_to="letters/%Y/%m/", max_length=200, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["appeal"],
                condition=~Q(state="approved"),
                name="answer_one_open_per_appeal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}: {self.get_state_display()}"


class Contribution(TimeStampedModel):
    """A co-executor agency's input to the lead agency's answer."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="contributions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("input for the lead agency"))

    class Meta:
        verbose_name = _("co-executor's input")
        verbose_name_plural = _("co-executors' input")

    def __str__(self) -> str:
        return f"{self.assignment_id}: {self.text[:40]}"


class PersonalDataAccess(models.Model):
    """Who opened which citizen's personal data, when and from where (audit)."""

    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="data_accesses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    what = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("opening of personal data")
        verbose_name_plural = _("openings of personal data")
        indexes = [models.Index(fields=["appeal", "at"], name="data_access_appeal_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} opened {self.appeal_id} ({self.what})"


class Rating(models.Model):
    """The citizen's rating of an answer: 1 to 5, and whether it addressed the question."""

    answer = models.OneToOneField(
        Answer, on_delete=models.CASCADE, related_name="rating"
    )
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="ratings")
    score = models.PositiveSmallIntegerField(_("rating"))
    addressed = models.BooleanField(_("the answer addressed my question"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id}: {self.score}"


class ReReview(models.Model):
    """A citizen's request to review an answer again. Upheld when the new answer
    supports what the earlier one did not."""

    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="re_reviews"
    )
    answer = models.OneToOneField(
        Answer, on_delete=models.CASCADE, related_name="re_review"
    )
    reason = models.TextField(_("why the answer does not satisfy you"))
    requested_at = models.DateTimeField(default=timezone.now)
    upheld = models.BooleanField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("re-review request")
        verbose_name_plural = _("re-review requests")

    def __str__(self) -> str:
        return f"{self.appeal_id} re-review ({self.requested_at:%Y-%m-%d})"


class StagedUpload(models.Model):
    """A file a citizen uploaded with a form that has not been sent yet.

    Staged the moment it arrives, so a validation error elsewhere in the form never
    makes anyone attach it twice; it belongs to one unsent form (its submission key)
    and is removed when the appeal is sent or after a day.
    """

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    submission_key = models.UUIDField(db_index=True)
    file = models.FileField(upload_to="staged/%Y/%m/%d/", max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            # A double-click posts the same file twice in parallel: one is kept.
            models.UniqueConstraint(
                fields=["submission_key", "sha256"], name="staged_upload_once_per_form"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name


class DeadlineRule(TimeStampedModel):
    """One time limit of the law on citizens' appeals, from the day it applies.

    A change of law is a new row with a later `applies_from`, never an edit: the rule
    for an appeal is the one in force on the day its period starts
    (appeals.deadlines.calendar.rule_for), so appeals registered before the change keep theirs.
    """

    class Code(models.TextChoices):
        REGISTRATION = "registration", _("registration after receipt")
        FORWARDING = "forwarding", _("forwarding to the competent body")
        REVIEW = "review", _("review after registration")
        # The value of this rule is the longest extension the law allows.
        EXTENSION = "extension", _("extension of the review (at most)")

    class Unit(models.TextChoices):
        WORKING_DAYS = "working_days", _("working days")
        CALENDAR_DAYS = "calendar_days", _("calendar days")

    code = models.CharField(_("time limit"), max_length=16, choices=Code.choices)
    value = models.PositiveSmallIntegerField(_("value"))
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    applies_from = models.DateField(
        _("applies from"),
        help_text=_("Appeals whose period starts on or after this day use this rule."),
    )
    source = models.CharField(
        _("source"),
        max_length=300,
        help_text=_("Article and law, e.g. “Law No. 67 of 4 May 2007, art. 8”."),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        ordering = ["code", "-applies_from"]
        constraints = [
            # Also the index of rule_for: the latest row of a code up to a day.
            models.UniqueConstraint(
                fields=["code", "applies_from"], name="deadline_rule_one_per_start"
            ),
            models.CheckConstraint(
                condition=Q(
                    code__in=["registration", "forwarding", "review", "extension"]
                ),
                name="deadline_rule_code_valid",
            ),
            models.CheckConstraint(
                condition=Q(unit__in=["working_days", "calendar_days"]),
                name="deadline_rule_unit_valid",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_code_display()}: {self.value} {self.get_unit_display()} "
            f"({self.applies_from:%Y-%m-%d})"
        )


class InboxCount(models.Model):
    """Rows of the inbox counts (appeals.casework.inbox_rollup): how many appeals due on one
    day sit in one part of an agency's inbox, new there or not. Written only by the
    database's triggers, the compaction and the rebuild; several rows may share a key
    (deltas not folded yet): readers sum them. The agency is a plain number, not a
    foreign key: the rows are derived data, and a key check would lock the agency row
    on every routing."""

    class Part(models.TextChoices):
        # Never shown to a person: no translated labels.
        LEAD = "lead"
        CO_EXECUTOR = "co"

    agency_id = models.IntegerField()
    part = models.CharField(max_length=4, choices=Part.choices)
    is_new = models.BooleanField()
    due_on = models.DateField(null=True)
    appeals = models.BigIntegerField()
    compacted = models.BooleanField()

    class Meta:
        indexes = [
            # The inbox's tabs: one agency's rows, summed from the index alone.
            models.Index(
                fields=["agency_id", "is_new", "due_on", "appeals"],
                name="inbox_count_agency_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.part} {self.due_on}: {self.appeals}"


class Addition(models.Model):
    """What the citizen (or an API client on their behalf) added to an open appeal
    after filing: a text and files, with their own time; the deadline stays."""

    appeal = models.ForeignKey(
        Appeal, on_delete=models.CASCADE, related_name="additions"
    )
    text = models.TextField(_("text"), blank=True)
    added_at = models.DateTimeField(_("added at"), default=timezone.now)
    # The form's (or the API request's) key: the same addition sent twice is kept once.
    submission_key = models.UUIDField(
        null=True, blank=True, unique=True, editable=False
    )
    api_client = models.ForeignKey(
        "agencies.ApiClient",
        verbose_name=_("added through"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("addition")
        verbose_name_plural = _("additions")
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return f"{self.appeal_id} @ {self.added_at:%Y-%m-%d %H:%M}"


class ConsentVersion(TimeStampedModel):
    """A version of the consent text a citizen accepts when filing (ky, ru, en). A new
    version is a new row: what older appeals accepted never changes."""

    text = models.TextField(_("text of the consent"))
    effective_from = models.DateTimeField(_("effective from"), unique=True)

    class Meta:
        verbose_name = _("consent version")
        verbose_name_plural = _("consent versions")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m-%d %H:%M}"


class ProcessingPolicy(TimeStampedModel):
    """The published policy on the processing of personal data (ky, ru, en): the
    privacy page shows the latest one in effect."""

    body = models.TextField(_("text of the policy"))
    effective_from = models.DateTimeField(_("effective from"), unique=True)

    class Meta:
        verbose_name = _("processing policy")
        verbose_name_plural = _("processing policies")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m-%d %H:%M}"


class FlagWord(models.Model):
    """A stem of an obscene or insulting word (ky or ru) that flags an appeal for the
    clerk; never shown to citizens."""

    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    stem = models.CharField(_("word stem"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("flag word")
        verbose_name_plural = _("flag words")
        constraints = [
            models.UniqueConstraint(
                fields=["language", "stem"], name="flag_word_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language}: {self.stem}"


class DataSubjectRequest(TimeStampedModel):
    """A request on paper to learn what personal data is held (Law No. 58): due seven
    calendar days after receipt, answered with the same document as the portal's."""

    agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requester_name = models.CharField(_("requester"), max_length=300)
    requester_contact = models.CharField(_("contact"), max_length=500, blank=True)
    appeals = models.ManyToManyField(
        Appeal, verbose_name=_("appeals concerned"), related_name="+"
    )
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"))
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        ordering = ["answered_on", "due_on", "id"]

    def __str__(self) -> str:
        return f"{self.requester_name} ({self.received_on:%Y-%m-%d})"


class RoutingModel(models.Model):
    """One trained version of the routing suggestions' model (appeals.suggestions): its
    file in the default storage, when and on how much it was trained, its figures."""

    file_name = models.CharField(_("file"), max_length=300, unique=True)
    # The file's SHA-256 as the portal wrote it: a file is unpickled only if it matches.
    sha256 = models.CharField(max_length=64, editable=False)
    trained_at = models.DateTimeField(_("trained at"), default=timezone.now)
    trained_on = models.PositiveIntegerField(_("appeals learned from"))
    figures = models.JSONField(_("evaluation figures"), default=dict, blank=True)
    is_current = models.BooleanField(_("in use"), default=False)

    class Meta:
        verbose_name = _("routing model")
        verbose_name_plural = _("routing models")
        ordering = ["-trained_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="routing_model_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trained_at:%Y-%m-%d %H:%M} ({self.trained_on})"


class RoutingSuggestion(models.Model):
    """What the model suggested for an appeal when it was routed, and what was chosen:
    the figures of how often the first suggestion is taken and later returned."""

    appeal = models.ForeignKey(
        Appeal,
        on_delete=models.CASCADE,
        db_index=False,  # routing_suggestion_appeal_idx leads with it
        related_name="routing_suggestions",
    )
    model = models.ForeignKey(
        RoutingModel,
        verbose_name=_("routing model"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # [[agency id, probability], ...], best first; empty when the model had none.
    suggestions = models.JSONField(_("suggestions"), default=list, blank=True)
    top_words = models.JSONField(_("words that weighed most"), default=list, blank=True)
    probability = models.FloatField(
        _("probability of the first"), null=True, blank=True
    )
    rule_agency = models.ForeignKey(
        Agency,
        verbose_name=_("suggested by the rule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    chosen_agency = models.ForeignKey(
        Agency,
        verbose_name=_("agency chosen"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    automatic = models.BooleanField(_("routed by suggestion"), default=False)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("routing suggestion")
        verbose_name_plural = _("routing suggestions")
        indexes = [
            models.Index(fields=["appeal", "at"], name="routing_suggestion_appeal_idx"),
            # The figures page: suggestions taken per month.
            models.Index(fields=["at"], name="routing_suggestion_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.appeal_id} → {self.chosen_agency_id}"


class IssuedDocument(models.Model):
    """A PDF the portal issued and signed (issue 31): what the public verification page
    shows for its code, the hash of the exact file issued, who signed it. Kept when the
    appeal's personal data is removed and when the document is signed again (a new row
    points to the one it re-issues)."""

    class Kind(models.TextChoices):
        ANSWER_LETTER = "answer_letter", _("answer letter")
        RECEIPT = "receipt", _("filing receipt")
        LEFT_WITHOUT_CONSIDERATION = (
            "left_without_consideration",
            _("letter leaving an appeal without consideration"),
        )
        REPORT = "report", _("quarterly report")

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting for signing")
        ISSUED = "issued", _("issued")

    kind = models.CharField(_("document"), max_length=32, choices=Kind.choices)
    # Unguessable (secrets, 50 bits): printed with the QR code on the first page.
    code = models.CharField(_("verification code"), max_length=16, unique=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.WAITING
    )
    appeal = models.ForeignKey(
        Appeal,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issued_documents",
    )
    answer = models.ForeignKey(
        Answer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issued_documents",
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The appeal's registration number, or the report's period.
    registration_number = models.CharField(
        _("registration number"), max_length=64, blank=True
    )
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    sha256 = models.CharField(
        _("SHA-256 of the issued file"), max_length=64, blank=True
    )
    signer_subject = models.CharField(_("signed by"), max_length=500, blank=True)
    certificate_fingerprint = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(max_length=300, blank=True)
    # Why the last attempt to sign failed (for staff and the logs, never the public).
    signing_error = models.CharField(max_length=500, blank=True)
    previous = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reissued_as",
    )

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(state="waiting")
                | (~Q(sha256="") & Q(issued_at__isnull=False)),
                name="issued_document_has_hash",
            ),
        ]
        indexes = [
            # The retry task: documents still waiting for a signature.
            models.Index(
                fields=["created_at"],
                condition=Q(state="waiting"),
                name="issued_document_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.registration_number} ({self.code})"
