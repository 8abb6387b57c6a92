"""Forms of appeals: the citizen's filing form and the tracking look-up."""

import datetime as dt
import re
import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from agencies.models import Agency, Topic
from appeals import models as appeal_models
from appeals.intake import uploads
from appeals.models import Answer, Channel, Delivery, Kind, Language
from appeals.privacy.consent import consent_in_effect
from portal.form_messages import Form as PortalForm
from portal.prepared import PreparedQuery

User = get_user_model()

TEXT_MIN = 20
TEXT_MAX = 10_000
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,30}$")


def long_text(label, *, rows: int, **kwargs) -> forms.CharField:
    """A text of several lines, `rows` high."""
    return forms.CharField(
        label=label, widget=forms.Textarea(attrs={"rows": rows}), **kwargs
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by appeals.intake.uploads, not here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        return []  # files are staged by the view as they arrive


def normalise_text(value: str) -> str:
    # Browsers send line breaks as \r\n; the counter in the page counts one character.
    return value.replace("\r\n", "\n").strip()


class LetterField(forms.CharField):
    """A letter's text: line breaks normalised before the length checks, so the
    limits count what the page's counter counts."""

    def to_python(self, value):
        return normalise_text(super().to_python(value))


class ApplicantFormMixin:
    """What the citizen's form and the clerks' forms share: the applicant's fields
    cleaned the same way, the text normalised, the unsent form's key."""

    def clean_text(self) -> str:
        return normalise_text(self.cleaned_data["text"])

    def clean_applicant_name(self) -> str:
        return " ".join(self.cleaned_data["applicant_name"].split())

    def clean_applicant_phone(self) -> str:
        phone = self.cleaned_data["applicant_phone"].strip()
        if phone and not PHONE_RE.match(phone):
            raise ValidationError(
                _("Write the phone number with digits, for example +996 555 123 456.")
            )
        return phone

    @staticmethod
    def require_contact(data: dict, message: str) -> None:
        if not any(
            data.get(field)
            for field in ("applicant_address", "applicant_phone", "applicant_email")
        ):
            raise ValidationError(message, code="no_contact")

    def get_submission_key(self) -> uuid.UUID:
        """The key of this unsent form, even when the rest of the form is invalid."""
        try:
            return uuid.UUID(str(self.data.get("submission_key", "")))
        except ValueError:
            return uuid.uuid4()


# Every citizen's filing checks its topic: a prepared query (compiled once per
# process, see portal/prepared.py); a topic's code is never empty.
_ACTIVE_TOPIC_BY_CODE = PreparedQuery(
    lambda code: Topic.objects.filter(is_active=True, code=code)[:1], code=""
)


class ActiveTopicField(forms.ModelChoiceField):
    """An active topic, chosen by its code."""

    def __init__(self, **kwargs):
        super().__init__(
            queryset=Topic.objects.filter(is_active=True),
            to_field_name="code",
            **kwargs,
        )

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Topic):
            value = value.code
        self.validate_no_null_characters(value)
        found = _ACTIVE_TOPIC_BY_CODE(code=str(value))
        if not found:
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found[0]


def _attachments_help() -> str:
    """The limits as appeals.intake.uploads enforces them, read when the form is shown."""
    files, size = uploads.MAX_FILES, uploads.MAX_TOTAL_SIZE // (1024 * 1024)
    return ngettext(
        "PDF, JPEG, PNG or DOCX; up to %(files)s file, %(size)s MB in all.",
        "PDF, JPEG, PNG or DOCX; up to %(files)s files, %(size)s MB in all.",
        files,
    ) % {"files": files, "size": size}


def citizens_text(*, label, rows: int, **kwargs) -> LetterField:
    """A citizen's letter: at most TEXT_MAX characters as the page's counter counts
    them (the filing form, an addition)."""
    return LetterField(
        label=label,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": rows, "data-maxlength": TEXT_MAX}),
        **kwargs,
    )


def citizens_documents() -> MultipleFileField:
    """A citizen's files, checked by appeals.intake.uploads as they are staged."""
    return MultipleFileField(
        label=_("Documents"),
        required=False,
        help_text=lazy(_attachments_help, str)(),
    )


class AppealForm(ApplicantFormMixin, PortalForm):
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    addressee = forms.ModelChoiceField(
        label=_("To which body"),
        queryset=Agency.objects.filter(is_active=True),
        required=False,
        empty_label=_("I don't know which body: the chancellery will decide"),
        to_field_name="slug",
    )
    kind = forms.ChoiceField(
        label=_("Kind of appeal"),
        choices=Kind.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "A proposal suggests an improvement; a statement asks for help with a "
            "right or a problem; a complaint is about a violated right."
        ),
    )
    topic = ActiveTopicField(label=_("Topic"), empty_label=_("Choose a topic"))
    text = citizens_text(
        label=_("Text of the appeal"),
        min_length=TEXT_MIN,
        rows=10,
        help_text=_(
            "Describe the matter, what you ask for, and where and when it happened."
        ),
    )
    attachments = citizens_documents()
    applicant_name = forms.CharField(label=_("Full name"), max_length=300)
    applicant_address = forms.CharField(
        label=_("Postal address"), max_length=500, required=False
    )
    applicant_phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    applicant_email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,  # the column's length
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    is_collective = forms.TypedChoiceField(
        label=_("Who is writing"),
        choices=[
            ("0", _("I write for myself")),
            ("1", _("A group of citizens (collective appeal)")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        initial="0",
    )
    signatories = forms.IntegerField(
        label=_("Number of signatories"),
        min_value=2,
        max_value=100_000,
        required=False,
        help_text=_("Only for a collective appeal."),
    )
    language = forms.ChoiceField(
        label=_("Language of the answer"),
        choices=Language.choices,
        help_text=_("The answer and every notice will be in this language."),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree to the processing of my personal data for the consideration of "
            "this appeal"
        ),
        error_messages={
            "required": _("Without your consent the appeal cannot be considered.")
        },
    )
    # A field people never see; software that fills every field gives itself away.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["applicant_name"].widget.attrs["autocomplete"] = "name"
        self.fields["applicant_address"].widget.attrs["autocomplete"] = "street-address"
        self.fields["consent"].help_text = ShownText(consent_help)

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise ValidationError(_("This field must stay empty."))
        return ""

    def clean(self):
        data = super().clean()
        self.require_contact(
            data,
            _(
                "Give at least one way to reach you: a postal address, a phone or an e-mail."
            ),
        )
        if data.get("is_collective") and not data.get("signatories"):
            self.add_error(
                "signatories",
                _("Give the number of signatories of the collective appeal."),
            )
        return data

    def submission_fields(self) -> dict:
        """The valid form as `filing.submit_appeal` takes it (the web form, the
        embedded form and the API file through this one mapping)."""
        data = self.cleaned_data
        return {
            **{name: data[name] for name in SUBMITTED_FIELDS},
            "signatories": data.get("signatories") or 1,
        }


class ShownText:
    """A help text built when the page shows it: a bound field asks only whether there
    is one (true), so a valid form that is sent never builds it (no query)."""

    def __init__(self, build):
        self._build = build
        self._text = None

    def __bool__(self) -> bool:
        return True

    def __str__(self) -> str:
        if self._text is None:
            self._text = self._build()
        return self._text

    __html__ = __str__


def consent_help() -> str:
    """Under the consent checkbox: the text in effect (what the filing stores as
    accepted) and the policy page, opened beside the form so nothing typed is lost."""
    link = format_html(
        '<a href="{}" target="_blank" rel="noopener">{}'
        '<span class="visually-hidden"> ({})</span></a>',
        reverse("privacy"),
        _("Personal data processing policy"),
        _("opens in a new window"),
    )
    version = consent_in_effect()
    if version is None:
        return link
    return format_html(
        '<span class="consent-text">{}</span> <span class="d-block mt-1">{} · {}</span>',
        version.text,
        _("Version in effect from %(date)s")
        % {"date": date_format(localtime(version.effective_from), "DATE_FORMAT")},
        link,
    )


# What a citizen's filing form hands to `filing.submit_appeal` as it is.
SUBMITTED_FIELDS = (
    "addressee",
    "kind",
    "topic",
    "text",
    "language",
    "applicant_name",
    "applicant_address",
    "applicant_phone",
    "applicant_email",
    "is_collective",
)


class TrackForm(PortalForm):
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    access_code = forms.CharField(
        label=_("Access code"),
        max_length=32,
        widget=forms.PasswordInput(render_value=True, attrs={"autocomplete": "off"}),
    )


# --- Staff: registration by the chancellery's clerks ---------------------------------

PAPER_CHANNELS = [
    (value, label) for value, label in Channel.choices if value != Channel.PORTAL
]
FORWARDING_CHANNELS = (Channel.PRESIDENT_OFFICE, Channel.JOGORKU_KENESH)


def limit_to_agencies(field: forms.ModelChoiceField, agencies) -> None:
    """The clerk's own agencies; with only one, it is implied and not asked."""
    field.queryset = agencies if agencies is not None else Agency.objects.none()
    if agencies is not None and len(agencies) == 1:
        field.initial = agencies[0].pk
        field.required = False
        field.widget = forms.HiddenInput()
        only = agencies[0]
        field.clean = lambda value, _field=field: _field.to_python(value) or only


class RepeatChoiceMixin(ApplicantFormMixin, PortalForm):
    """The clerk's answer when earlier appeals of the same applicant were found."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)

    repeat_of = forms.IntegerField(required=False, widget=forms.HiddenInput)
    repeats_checked = forms.BooleanField(required=False, widget=forms.HiddenInput)


class RegistrationForm(RepeatChoiceMixin):
    """What every registered appeal needs; the written and oral forms add their own."""

    agency = forms.ModelChoiceField(
        label=_("Registering agency"), queryset=Agency.objects.none(), empty_label=None
    )
    applicant_name = forms.CharField(label=_("Full name"), max_length=300)
    applicant_address = forms.CharField(
        label=_("Postal address"), max_length=500, required=False
    )
    applicant_phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    applicant_email = forms.EmailField(
        label=_("E-mail"), max_length=254, required=False
    )
    kind = forms.ChoiceField(label=_("Kind of appeal"), choices=Kind.choices)
    topic = ActiveTopicField(label=_("Topic"), required=False, empty_label="—")
    addressee = forms.ModelChoiceField(
        label=_("Addressed to"),
        queryset=Agency.objects.filter(is_active=True),
        required=False,
        empty_label=_("not stated"),
        to_field_name="slug",
    )
    text = LetterField(
        label=_("Text or summary"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "data-maxlength": TEXT_MAX}),
    )
    signatories = forms.IntegerField(
        label=_("Number of signatories"), min_value=1, max_value=100_000, initial=1
    )
    language = forms.ChoiceField(
        label=_("Language of the appeal"), choices=Language.choices
    )

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        limit_to_agencies(self.fields["agency"], agencies)

    def clean(self):
        data = super().clean()
        self.require_contact(data, _("Give at least one way to reach the applicant."))
        return data

    def registration_fields(self) -> dict:
        """The valid form as `registration.register_paper_appeal` takes it (the
        clerks' forms and the API's forwarding file through this one mapping); the
        written and oral forms add how and when the appeal came."""
        data = self.cleaned_data
        return {
            **{name: data[name] for name in REGISTERED_FIELDS},
            "is_collective": data["signatories"] > 1,
        }


# What every registration form hands to `registration.register_paper_appeal` as it is.
REGISTERED_FIELDS = (
    "agency",
    "kind",
    "topic",
    "addressee",
    "text",
    "language",
    "applicant_name",
    "applicant_address",
    "applicant_phone",
    "applicant_email",
    "signatories",
)


class WrittenRegistrationForm(RegistrationForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=PAPER_CHANNELS)
    delivery = forms.ChoiceField(
        label=_("Delivery method"),
        choices=[("", "—"), *Delivery.choices],
        required=False,
        help_text=_("Only for other means of communication."),
    )
    received_on = forms.DateField(
        label=_("Date received"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    backdate_reason = forms.CharField(
        label=_("Reason for an earlier date"),
        max_length=500,
        required=False,
        help_text=_("Required when the date received is before today."),
    )
    cover_letter_number = forms.CharField(
        label=_("Cover letter number"), max_length=64, required=False
    )
    cover_letter_date = forms.DateField(
        label=_("Cover letter date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_(
            "For appeals forwarded by the President's Office or the Jogorku Kenesh."
        ),
    )
    scan = MultipleFileField(
        label=_("Scan of the original"),
        required=False,
        help_text=_("PDF, JPEG or PNG; several files if needed."),
    )

    field_order = [
        "agency", "channel", "delivery", "received_on", "backdate_reason",
        "cover_letter_number", "cover_letter_date", "applicant_name",
        "applicant_address", "applicant_phone", "applicant_email", "kind", "topic",
        "addressee", "text", "signatories", "language", "scan",
    ]  # fmt: skip

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        received_on = data.get("received_on")
        channel = data.get("channel")
        if received_on:
            if received_on > today:
                self.add_error(
                    "received_on", _("The date received cannot be in the future.")
                )
            elif received_on < today and not data.get("backdate_reason", "").strip():
                self.add_error(
                    "backdate_reason",
                    _("Say why the appeal is registered with an earlier date."),
                )
        if channel == Channel.OTHER and not data.get("delivery"):
            self.add_error("delivery", _("Choose how the appeal was delivered."))
        if channel != Channel.OTHER and data.get("delivery"):
            self.add_error(
                "delivery",
                _(
                    "A delivery method is only recorded for other means of communication."
                ),
            )
        if channel in FORWARDING_CHANNELS:
            if not data.get("cover_letter_number"):
                self.add_error(
                    "cover_letter_number",
                    _("Give the number of the forwarding body's cover letter."),
                )
            if not data.get("cover_letter_date"):
                self.add_error(
                    "cover_letter_date",
                    _("Give the date of the forwarding body's cover letter."),
                )
        return data

    def registration_fields(self) -> dict:
        data = self.cleaned_data
        today = timezone.localdate()
        received_on = data["received_on"]
        # An earlier date is recorded at the opening of the working day.
        received_at = (
            timezone.now()
            if received_on == today
            else timezone.make_aware(dt.datetime.combine(received_on, dt.time(9)))
        )
        return {
            **super().registration_fields(),
            "channel": data["channel"],
            "delivery": data["delivery"],
            "form": appeal_models.Form.WRITTEN,
            "received_at": received_at,
            "backdate_reason": data["backdate_reason"] if received_on < today else "",
            "cover_letter_number": data["cover_letter_number"],
            "cover_letter_date": data["cover_letter_date"],
        }


class OralRegistrationForm(RegistrationForm):
    received_at = forms.DateTimeField(
        label=_("Heard at"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )
    received_by = forms.ModelChoiceField(
        label=_("Received the citizen"),
        queryset=User.objects.none(),
        empty_label=None,
    )

    field_order = [
        "agency", "received_at", "received_by", "applicant_name", "applicant_address",
        "applicant_phone", "applicant_email", "kind", "topic", "addressee", "text",
        "signatories", "language",
    ]  # fmt: skip

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, agencies=agencies, **kwargs)
        self.fields["text"].label = _("Summary of what the citizen said")
        self.fields["received_by"].queryset = (
            User.objects.filter(memberships__agency__in=agencies or [], is_active=True)
            # An API client's system user is a clerk of its agency (it registers
            # through the clerks' service) but never receives a visitor.
            .filter(api_client__isnull=True)
            .distinct()
            .order_by("last_name", "first_name")
        )
        self.fields["received_by"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationError(
                _("The time of the reception cannot be in the future.")
            )
        return value

    def registration_fields(self) -> dict:
        data = self.cleaned_data
        return {
            **super().registration_fields(),
            "channel": Channel.PUBLIC_RECEPTION,
            "form": appeal_models.Form.ORAL,
            "received_at": data["received_at"],
            "received_by": data["received_by"],
        }


class LeaveWithoutConsiderationForm(PortalForm):
    """A legal ground and the explanation the citizen reads in the letter."""

    ground = forms.ChoiceField(
        label=_("Legal ground"),
        choices=appeal_models.InadmissibilityGround.choices,
        widget=forms.RadioSelect,
    )
    details = long_text(label=_("Explanation for the citizen"), max_length=1000, rows=3)

    def citizen_reason(self) -> str:
        return self.cleaned_data["details"].strip()


class QueueRegisterForm(RepeatChoiceMixin):
    agency = forms.ModelChoiceField(
        label=_("Registering agency"), queryset=Agency.objects.none(), empty_label=None
    )

    def __init__(self, *args, agencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        limit_to_agencies(self.fields["agency"], agencies)


# --- Staff: the registration journal's filter -----------------------------------------
# Its import stays with the section (the top of the module is edited elsewhere).


def _any(choices) -> list:
    return [("", _("any")), *choices]


class JournalFilterForm(PortalForm):
    """The journal's filter: a GET form, every field optional."""

    received_from = forms.DateField(
        label=_("Received from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    received_to = forms.DateField(
        label=_("Received to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=_any(appeal_models.Channel.choices), required=False
    )
    form = forms.ChoiceField(
        label=_("Form"), choices=_any(appeal_models.Form.choices), required=False
    )
    agency = forms.ModelChoiceField(
        label=_("Registering agency"),
        queryset=Agency.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("all my agencies"),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        # A submission still waiting for the clerk is not on the register.
        choices=_any(
            (value, label)
            for value, label in appeal_models.Status.choices
            if value != appeal_models.Status.SUBMITTED
        ),
        required=False,
    )
    number = forms.CharField(
        label=_("Registration number"),
        max_length=32,
        required=False,
        help_text=_("The full number, e.g. GA-2026-000123, or its end, e.g. 000123."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    applicant = forms.CharField(
        label=_("Applicant"),
        max_length=300,
        required=False,
        help_text=_("The beginning of the full name; letter case does not matter."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        agencies = list(agencies)
        if len(agencies) > 1:
            field = self.fields["agency"]
            field.queryset = Agency.objects.filter(
                pk__in=[a.pk for a in agencies]
            ).order_by("code")
            field.label_from_instance = lambda agency: f"{agency.code} · {agency}"
        else:
            # One agency (or none): the journal is that agency's, nothing to choose.
            del self.fields["agency"]

    def clean_number(self) -> str:
        return self.cleaned_data["number"].strip().upper()

    def clean_applicant(self) -> str:
        return " ".join(self.cleaned_data["applicant"].split())

    def clean(self):
        data = super().clean()
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and end < start:
            self.add_error(
                "received_to", _("The end of the period is before its beginning.")
            )
        return data


# --- Staff: routing and answering ----------------------------------------------------


class RouteForm(PortalForm):
    lead = forms.ModelChoiceField(
        label=_("Lead agency"),
        queryset=Agency.objects.filter(is_active=True).exclude(kind="apparatus"),
        to_field_name="slug",
    )
    co_executors = forms.ModelMultipleChoiceField(
        label=_("Co-executors"),
        queryset=Agency.objects.filter(is_active=True).exclude(kind="apparatus"),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Other bodies that send their input to the lead agency."),
    )
    cover_note = long_text(
        label=_("Cover note"), required=False, max_length=2000, rows=3
    )


class ForwardForm(PortalForm):
    body = forms.CharField(label=_("Body outside the portal"), max_length=300)
    letter_number = forms.CharField(label=_("Outgoing letter number"), max_length=64)


class AssignForm(PortalForm):
    executor = forms.ModelChoiceField(label=_("Executor"), queryset=User.objects.none())

    def __init__(self, *args, agency=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["executor"].queryset = (
            User.objects.filter(
                memberships__agency=agency,
                memberships__role__in=["executor", "head"],
                is_active=True,
            )
            .distinct()
            .order_by("last_name", "first_name")
        )
        self.fields["executor"].label_from_instance = lambda user: (
            user.get_full_name() or user.get_username()
        )


class AnswerForm(PortalForm):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Answer.OUTCOMES, widget=forms.RadioSelect
    )
    text = long_text(
        label=_("Text of the answer"),
        min_length=20,
        max_length=20_000,
        rows=12,
        help_text=_(
            "Answer the citizen's question itself: what was checked, what was decided "
            "and why, and what the citizen can do next."
        ),
    )

    def clean_text(self) -> str:
        return normalise_text(self.cleaned_data["text"])


class CommentForm(PortalForm):
    comment = long_text(label=_("What must be changed"), max_length=2000, rows=3)


class ReturnForm(PortalForm):
    reason = long_text(
        label=_("Why the appeal is outside the agency's competence"),
        max_length=2000,
        rows=3,
    )


class ContributionForm(PortalForm):
    text = long_text(label=_("Input for the lead agency"), max_length=10_000, rows=5)


# --- Citizen: rating an answer, asking for a re-review -------------------------------


class RatingForm(PortalForm):
    score = forms.TypedChoiceField(
        label=_("How do you rate the answer?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("1 is very bad, 5 is very good."),
    )
    addressed = forms.TypedChoiceField(
        label=_("Did the answer address your question?"),
        choices=[("1", _("Yes")), ("0", _("No"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    comment = long_text(
        label=_("Comment (optional)"), required=False, max_length=2000, rows=3
    )


class ReReviewForm(PortalForm):
    reason = long_text(
        label=_("Why the answer does not satisfy you"),
        min_length=10,
        max_length=5000,
        rows=4,
    )


# --- Citizen: adding to an open appeal, withdrawing it ------------------------------


class AdditionForm(ApplicantFormMixin, PortalForm):
    """What the citizen adds to an open appeal: the filing form's text rules and
    upload checks; a text, files, or both."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    text = citizens_text(
        label=_("What you want to add"),
        required=False,
        rows=5,
        help_text=_(
            "New facts or documents. The deadline for the answer stays the same."
        ),
    )
    attachments = citizens_documents()


class WithdrawForm(PortalForm):
    reason = long_text(
        label=_("Why you withdraw it (optional)"),
        required=False,
        max_length=2000,
        rows=3,
    )
