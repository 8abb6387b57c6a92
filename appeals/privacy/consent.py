"""The consent text and the processing policy in effect, and when a consent version
may no longer be changed.

Both are versioned rows (appeals.models.ConsentVersion, ProcessingPolicy): the one in
effect at a moment is the latest whose `effective_from` is not after it. The filing
stores the consent version in effect as the appeal arrives (appeals.intake.filing),
so what an appeal accepted is fixed by its row, whatever is published later.
"""

import datetime as dt

from django.utils import timezone

from appeals.models import Appeal, ConsentVersion, ProcessingPolicy


def consent_in_effect(at: dt.datetime | None = None) -> ConsentVersion | None:
    return (
        ConsentVersion.objects.filter(effective_from__lte=at or timezone.now())
        .order_by("-effective_from")
        .first()
    )


def policy_in_effect(at: dt.datetime | None = None) -> ProcessingPolicy | None:
    return (
        ProcessingPolicy.objects.filter(effective_from__lte=at or timezone.now())
        .order_by("-effective_from")
        .first()
    )


def consent_is_fixed(
    version: ConsentVersion, *, now: dt.datetime | None = None
) -> bool:
    """A version is fixed once it has taken effect or an appeal accepted it: its text
    is then what citizens were shown and agreed to. A change is a new version; only a
    version still waiting for its date, and accepted by no one, may be corrected."""
    if version.pk is None:
        return False
    if version.effective_from <= (now or timezone.now()):
        return True
    return Appeal.objects.filter(consent_version=version).exists()
