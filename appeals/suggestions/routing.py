"""Routing with the model's suggestions: the controller's choice recorded beside what
was suggested, and routing without a person where an agency opted in and the first
suggestion is probable enough (off by default everywhere)."""

import datetime as dt
import logging
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency
from appeals.casework import routing
from appeals.models import Appeal, Event, RoutingSuggestion, Status
from appeals.suggestions import suggest

logger = logging.getLogger(__name__)

# The newest registration the automatic routing has looked at (one look per appeal).
WATERMARK_KEY = "routing:by-suggestion:registered-at"
SWEEP_BATCH = 500


def record(
    *,
    appeal: Appeal,
    suggestions: suggest.Suggestions,
    chosen: Agency,
    automatic: bool = False,
) -> RoutingSuggestion:
    first = suggestions.first
    return RoutingSuggestion.objects.create(
        appeal=appeal,
        model_id=suggestions.model_id,
        suggestions=suggestions.as_pairs(),
        top_words=suggestions.top_words,
        probability=round(first.probability, 4) if first else None,
        rule_agency=suggestions.rule,
        chosen_agency=chosen,
        automatic=automatic,
    )


@transaction.atomic
def route_appeal(
    *,
    appeal_id: int,
    actor: AbstractBaseUser,
    lead: Agency,
    co_executors: Iterable[Agency] = (),
    cover_note: str = "",
) -> Appeal:
    """A controller routes the appeal (appeals.casework.routing.route_appeal); what the
    model and the rule suggested at that moment is kept with the choice."""
    appeal = routing.route_appeal(
        appeal_id=appeal_id,
        actor=actor,
        lead=lead,
        co_executors=co_executors,
        cover_note=cover_note,
    )
    record(appeal=appeal, suggestions=suggest.for_appeal(appeal), chosen=lead)
    return appeal


def route_by_suggestion(*, appeal_id: int) -> Appeal | None:
    """Route a registered appeal without a person when its first suggestion's agency
    opted in (Agency.routes_by_suggestion) and its probability is at least
    ROUTING_AUTO_THRESHOLD; None otherwise (a controller routes it). Only appeals never
    routed before: a returned or re-reviewed appeal always goes to a person."""
    appeal = (
        Appeal.objects.select_related("topic__default_agency", "addressee")
        .filter(pk=appeal_id, status=Status.REGISTERED)
        .first()
    )
    if appeal is None or appeal.events.filter(type=Event.Type.ROUTED).exists():
        return None
    suggestions = suggest.for_appeal(appeal)
    if not suggest.is_confident_for(suggestions):
        return None
    first = suggestions.first
    with transaction.atomic():
        appeal = routing.route_appeal(
            appeal_id=appeal.pk,
            actor=None,
            lead=first.agency,
            by_suggestion=round(first.probability, 2),
        )
        record(
            appeal=appeal, suggestions=suggestions, chosen=first.agency, automatic=True
        )
    logger.info(
        "appeal %s routed by suggestion to %s (p = %.2f)",
        appeal.pk,
        first.agency.slug,
        first.probability,
    )
    return appeal


def sweep() -> int:
    """Route by suggestion the appeals registered since the last sweep; nothing (one
    query) while no agency has opted in. Each appeal is looked at once: one below the
    threshold stays with the controllers."""
    if not Agency.objects.filter(routes_by_suggestion=True, is_active=True).exists():
        return 0
    since = cache.get(WATERMARK_KEY)
    appeals = Appeal.objects.filter(status=Status.REGISTERED)
    if since is not None:
        appeals = appeals.filter(registered_at__gt=dt.datetime.fromisoformat(since))
    else:  # the first sweep after an opt-in: the last day's registrations
        appeals = appeals.filter(registered_at__gte=timezone.now() - dt.timedelta(1))
    routed = 0
    latest = None
    for appeal_id, registered_at in appeals.order_by("registered_at", "pk").values_list(
        "pk", "registered_at"
    )[:SWEEP_BATCH]:
        try:
            routed += route_by_suggestion(appeal_id=appeal_id) is not None
        except Exception:  # one appeal's failure leaves it to the controllers
            logger.exception("appeal %s not routed by suggestion", appeal_id)
        latest = registered_at
    if latest is not None:
        cache.set(WATERMARK_KEY, latest.isoformat(), timeout=None)
    return routed
