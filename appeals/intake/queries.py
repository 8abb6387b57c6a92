"""What the clerk sees while registering: the files staged with the form, earlier appeals
of the same applicant and similar texts (within a time budget).
"""

import logging
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Q

from appeals.models import (
    Appeal,
    StagedUpload,
)
from appeals.register import lookups, matching

logger = logging.getLogger(__name__)


def staged_uploads(submission_key) -> list[StagedUpload]:
    return list(
        StagedUpload.objects.filter(submission_key=submission_key).order_by(
            "created_at"
        )
    )


@dataclass(frozen=True)
class SimilarAppeals:
    same_applicant: list[Appeal]
    similar_text: list[Appeal]
    # The text search ran out of its time budget (the page says so).
    text_search_skipped: bool = False

    def __bool__(self) -> bool:
        return bool(self.same_applicant or self.similar_text)


def similar_appeals(
    *,
    name: str,
    phone: str = "",
    email: str = "",
    text: str = "",
    exclude_id: int | None = None,
    limit: int = 5,
) -> SimilarAppeals:
    """Earlier appeals a clerk should see before registering a new one.

    The same applicant: the same normalised name with the same phone or e-mail. Similar
    text: trigram similarity on PostgreSQL (pg_trgm, GIN index); on SQLite, the demo
    falls back to the same opening words.
    """
    registered = Appeal.objects.exclude(
        registration_number__isnull=True
    ).select_related("registering_agency", "lead_agency")
    if exclude_id:
        registered = registered.exclude(pk=exclude_id)
    same = []
    contact = Q()
    if matching.phone_key(phone):
        contact |= Q(applicant_phone_key=matching.phone_key(phone))
    if email.strip():
        contact |= Q(applicant_email__iexact=email.strip())
    if name.strip() and contact:
        same = list(
            registered.filter(
                Q(applicant_name_key=matching.name_key(name)) & contact
            ).order_by("-received_at")[:limit]
        )
    similar: list[Appeal] | None = []
    probe = " ".join(text.split())[:1000]
    if len(probe) >= 20:
        if connection.vendor == "postgresql":
            similar = lookups.within_budget(
                lambda: list(
                    registered.filter(text__trigram_similar=probe)
                    .annotate(similarity=TrigramSimilarity("text", probe))
                    .order_by("-similarity")[:limit]
                ),
                milliseconds=lookups.SIMILAR_TEXT_BUDGET_MS,
            )
        else:
            similar = list(
                registered.filter(text__startswith=probe[:40]).order_by("-received_at")[
                    :limit
                ]
            )
    same_ids = {appeal.pk for appeal in same}
    return SimilarAppeals(
        same_applicant=same,
        similar_text=[appeal for appeal in similar or [] if appeal.pk not in same_ids],
        text_search_skipped=similar is None,
    )


# A clerk registering and a controller routing wait for these searches: a text that
# shares common words with a large part of the register makes the trigram index
# read long posting lists, so each search has a time budget and is skipped, and the
# page says so, when it runs out (the registration itself never waits longer).
