"""The routing suggestions' monthly figures: how often the first suggestion was taken,
and how often a routed appeal came back as outside the agency's competence, after the
first suggestion was taken and otherwise (another agency chosen, or no suggestion)."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from appeals.models import Event, RoutingSuggestion


@dataclass(frozen=True)
class Month:
    month: dt.date
    routed: int  # routings recorded (by controllers and by suggestion)
    suggested: int  # of them, with a suggestion of the model
    first_taken: int  # the controller chose the first suggestion
    automatic: int  # routed by suggestion, without a person
    taken_returned: int  # first suggestion followed (or automatic), later returned
    other: int  # routings without a suggestion or against the first
    other_returned: int

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def first_taken_share(self) -> float | None:
        return self._share(self.first_taken, self.suggested - self.automatic)

    @property
    def taken_returned_share(self) -> float | None:
        return self._share(self.taken_returned, self.first_taken + self.automatic)

    @property
    def other_returned_share(self) -> float | None:
        return self._share(self.other_returned, self.other)


def monthly(*, months: int = 12, today: dt.date | None = None) -> list[Month]:
    """The last `months` calendar months (Bishkek), newest first; months without a
    recorded routing are left out."""
    today = today or timezone.localdate()
    first_month = dt.date(today.year, today.month, 1)
    for _ in range(months - 1):
        first_month = (first_month - dt.timedelta(days=1)).replace(day=1)
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(first_month, dt.time(0), tzinfo=zone)
    returned = Event.objects.annotate(
        agency=Cast(KT("data__agency_id"), IntegerField())
    ).filter(
        appeal=OuterRef("appeal_id"),
        type=Event.Type.RETURNED,
        at__gte=OuterRef("at"),
        agency=OuterRef("chosen_agency_id"),
    )
    rows = (
        RoutingSuggestion.objects.filter(at__gte=start)
        .annotate(
            month=TruncMonth("at", tzinfo=zone),
            first=Cast(KT("suggestions__0__0"), IntegerField()),
            was_returned=Exists(returned),
        )
        .annotate(
            took_first=ExpressionWrapper(
                Q(first=F("chosen_agency_id")), output_field=BooleanField()
            ),
        )
        .values("month")
        .annotate(
            routed=Count("pk"),
            suggested=Count("pk", filter=Q(first__isnull=False)),
            first_taken=Count("pk", filter=Q(took_first=True, automatic=False)),
            automatic=Count("pk", filter=Q(automatic=True)),
            taken_returned=Count("pk", filter=Q(took_first=True, was_returned=True)),
            other=Count("pk", filter=~Q(took_first=True) | Q(first__isnull=True)),
            other_returned=Count(
                "pk",
                filter=(~Q(took_first=True) | Q(first__isnull=True))
                & Q(was_returned=True),
            ),
        )
        .order_by("-month")
    )
    return [
        Month(
            month=row["month"].date()
            if isinstance(row["month"], dt.datetime)
            else row["month"],
            **{key: row[key] for key in Month.__dataclass_fields__ if key != "month"},
        )
        for row in rows
    ]
