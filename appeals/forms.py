"""Forms of appeals: the citizen's filing form and the tracking look-up."""

import re
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Topic

from .models import Kind, Language

TEXT_MIN = 20
TEXT_MAX = 10_000
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,30}$")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by appeals.uploads, not here."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        return []  # files are staged by the view as they arrive


def normalise_text(value: str) -> str:
    # Browsers send line breaks as \r\n; the counter in the page counts one character.
    return value.replace("\r\n", "\n").strip()


class AppealForm(forms.Form):
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
    topic = forms.ModelChoiceField(
        label=_("Topic"),
        queryset=Topic.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=_("Choose a topic"),
    )
    text = forms.CharField(
        label=_("Text of the appeal"),
        min_length=TEXT_MIN,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 10, "data-maxlength": TEXT_MAX}),
        help_text=_(
            "Describe the matter, what you ask for, and where and when it happened."
        ),
    )
    attachments = MultipleFileField(
        label=_("Documents"),
        required=False,
        help_text=_("PDF, JPEG, PNG or DOCX; up to 10 files, 20 MB in all."),
    )
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

    def clean_website(self) -> str:
        if self.cleaned_data["website"]:
            raise ValidationError(_("This field must stay empty."))
        return ""

    def clean(self):
        data = super().clean()
        if not any(
            data.get(field)
            for field in ("applicant_address", "applicant_phone", "applicant_email")
        ):
            raise ValidationError(
                _(
                    "Give at least one way to reach you: a postal address, a phone "
                    "or an e-mail."
                ),
                code="no_contact",
            )
        if data.get("is_collective") and not data.get("signatories"):
            self.add_error(
                "signatories",
                _("Give the number of signatories of the collective appeal."),
            )
        return data

    def get_submission_key(self) -> uuid.UUID:
        """The key of this unsent form, even when the rest of the form is invalid."""
        raw = self.data.get("submission_key", "")
        try:
            return uuid.UUID(str(raw))
        except ValueError:
            return uuid.uuid4()


class TrackForm(forms.Form):
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
