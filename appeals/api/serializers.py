"""The shapes of the API's requests and answers. Requests are only typed here: the
rules of an appeal are the web forms' (appeals.forms), applied by the views."""

import datetime as dt

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from appeals.forms import FORWARDING_CHANNELS
from appeals.intake.uploads import MAX_FILES
from appeals.models import Channel, Kind, Language, Outcome, Status
from portal.form_messages import PortalSerializerMixin
from portal.pagination import InvalidCursor, decode_cursor

FORWARDING_CHANNEL_CHOICES = [(c, Channel(c).label) for c in FORWARDING_CHANNELS]


class PortalSerializer(PortalSerializerMixin, serializers.Serializer):
    """A request's shape, whose errors speak the portal's words (portal.form_messages)."""


class AttachmentIn(PortalSerializer):
    name = serializers.CharField(max_length=200, help_text="File name, e.g. scan.pdf")
    content = serializers.CharField(
        help_text="The file's bytes in base64 (PDF, JPEG, PNG or DOCX)."
    )


class ApplicantIn(PortalSerializer):
    applicant_name = serializers.CharField(max_length=300)
    applicant_address = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )
    applicant_phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )
    applicant_email = serializers.CharField(
        max_length=254, required=False, allow_blank=True, default=""
    )
    kind = serializers.ChoiceField(choices=Kind.choices)
    topic = serializers.CharField(
        max_length=64, help_text="Code of a topic of the classifier."
    )
    addressee = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        allow_null=True,
        default="",
        help_text="Slug of the agency addressed; empty when the citizen does not know.",
    )
    text = serializers.CharField(max_length=10_000)
    language = serializers.ChoiceField(choices=Language.choices)
    attachments = AttachmentIn(many=True, required=False, max_length=MAX_FILES)


class FilingIn(ApplicantIn):
    is_collective = serializers.BooleanField(required=False, default=False)
    signatories = serializers.IntegerField(required=False, allow_null=True)
    consent = serializers.BooleanField(
        help_text="The citizen agreed to the processing of personal data (must be true)."
    )


class ForwardIn(ApplicantIn):
    channel = serializers.ChoiceField(choices=FORWARDING_CHANNEL_CHOICES)
    cover_letter_number = serializers.CharField(max_length=64)
    cover_letter_date = serializers.DateField()
    topic = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    signatories = serializers.IntegerField(required=False, default=1)


class FiledOut(serializers.Serializer):
    tracking_number = serializers.CharField()
    access_code = serializers.CharField(
        allow_null=True,
        help_text="The citizen's secret code, given only in the answer to this call.",
    )
    registration_number = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices)


class EventOut(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    at = serializers.DateTimeField()


class AnswerOut(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    text = serializers.CharField()
    approved_at = serializers.DateTimeField(allow_null=True)


class AppealOut(serializers.Serializer):
    tracking_number = serializers.CharField()
    registration_number = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.CharField()
    outcome = serializers.CharField(allow_blank=True)
    channel = serializers.ChoiceField(choices=Channel.choices)
    kind = serializers.CharField(allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices)
    received_at = serializers.DateTimeField()
    registered_at = serializers.DateTimeField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    lead_agency = serializers.CharField(
        allow_null=True, help_text="Code of the lead agency."
    )


class AdditionFileOut(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField()


class AdditionOut(serializers.Serializer):
    added_at = serializers.DateTimeField()
    text = serializers.CharField(allow_blank=True)
    files = AdditionFileOut(many=True)


class AdditionIn(PortalSerializer):
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=10_000,
        help_text="What the citizen adds (a text, files, or both).",
    )
    attachments = AttachmentIn(many=True, required=False, max_length=MAX_FILES)


class AdditionCreatedOut(serializers.Serializer):
    tracking_number = serializers.CharField()
    added_at = serializers.DateTimeField()
    files = serializers.IntegerField()


class AppealDetailOut(AppealOut):
    history = EventOut(many=True)
    additions = AdditionOut(
        many=True, help_text="What the citizen added after filing, oldest first."
    )
    answer = AnswerOut(
        allow_null=True,
        help_text="The approved answer; only for keys with receive_answers.",
    )


class AppealPageOut(serializers.Serializer):
    results = AppealOut(many=True)
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as ?cursor= for the next page."
    )


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages by field; __all__ for the request as a whole.",
    )


class ListQuery(PortalSerializer):
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    received_from = serializers.DateField(required=False)
    received_to = serializers.DateField(required=False)
    cursor = serializers.CharField(required=False, max_length=100)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200)

    def validate_cursor(self, value: str) -> str:
        try:
            decode_cursor(value, kind=dt.datetime)  # the list runs by received_at
        except InvalidCursor:
            raise serializers.ValidationError(
                _("This is not a cursor this list gave out.")
            ) from None
        return value

    def validate(self, data):
        start, end = data.get("received_from"), data.get("received_to")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"received_to": _("The end of the period is before its beginning.")}
            )
        return data
