"""The managers' report picker: a period, a body, a language."""

import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from portal.form_messages import Form as PortalForm
from portal.periods import parse_period

from .archive import quarter_before

RANGE = "range"
YEAR = "year"
KINDS = [
    ("Q1", _("1st quarter")),
    ("Q2", _("2nd quarter")),
    ("Q3", _("3rd quarter")),
    ("Q4", _("4th quarter")),
    ("H1", _("1st half-year")),
    ("H2", _("2nd half-year")),
    ("9M", _("nine months")),
    (YEAR, _("year")),
    (RANGE, _("days from … to …")),
]


def initial(*, today: dt.date, language: str) -> dict:
    """The last quarter that has ended, for all state bodies."""
    year, part = quarter_before(today).split("-")
    return {"kind": part, "year": year, "language": language}


class ReportForm(PortalForm):
    kind = forms.ChoiceField(label=_("Period"), choices=KINDS)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    period = forms.CharField(
        label=_("Or type the period"),
        required=False,
        max_length=32,
        help_text=_(
            "As on the command line: 2020-Q1, 2019-H1, 2019-9M, 2019, "
            "2020-01-01..2020-02-15."
        ),
    )
    agency = forms.ModelChoiceField(
        label=_("Body"),
        queryset=Agency.objects.filter(is_active=True).order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label=_("All state bodies"),
    )
    with_subordinates = forms.BooleanField(
        label=_("with its subordinate bodies"), required=False
    )
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)

    def clean(self):
        data = super().clean()
        text = (data.get("period") or "").strip()
        if not text:
            kind, year = data.get("kind"), data.get("year")
            if kind == RANGE:
                start, end = data.get("start"), data.get("end")
                if not start or not end:
                    raise forms.ValidationError(
                        _("Give the first and the last day of the period.")
                    )
                text = f"{start.isoformat()}..{end.isoformat()}"
            elif kind and year:
                text = str(year) if kind == YEAR else f"{year}-{kind}"
            else:
                return data  # the field errors say what is missing
        try:
            data["report_period"] = parse_period(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        if data["report_period"].start > timezone.localdate():
            raise forms.ValidationError(_("The period has not begun yet."))
        return data
