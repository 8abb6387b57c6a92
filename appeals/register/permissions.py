"""Who may see and do what: one place, used by views and services."""

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet

from agencies.models import Agency, Membership
from appeals.models import Appeal, Assignment

Role = Membership.Role


def memberships_of(user: AbstractBaseUser | AnonymousUser) -> list[Membership]:
    """The user's memberships with their agencies, by agency code: read once per user
    object, and a request's user lives as long as the request. For reading pages
    (menus, roles, the inbox); services, which decide a write under a lock, ask the
    database afresh (`is_member`)."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_portal_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user)
            .select_related("agency")
            .order_by("agency__code", "pk")
        )
        user._portal_memberships = cached
    return cached


def roles_of(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    return {membership.role for membership in memberships_of(user)}


def holds_role(user: AbstractBaseUser | AnonymousUser, agency_id, *roles: str) -> bool:
    """`is_member` from the memberships read for this request (`memberships_of`)."""
    roles = roles or tuple(Role.values)
    return any(
        m.agency_id == agency_id and m.role in roles for m in memberships_of(user)
    )


def agencies_holding(user: AbstractBaseUser, *roles: str) -> list[Agency]:
    """`agencies_with_role` from the memberships read for this request, by code."""
    agencies = {}
    for membership in memberships_of(user):
        if membership.role in roles:
            agencies.setdefault(membership.agency_id, membership.agency)
    return list(agencies.values())


def has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    return role in roles_of(user)


def agencies_with_role(user: AbstractBaseUser, *roles: str) -> QuerySet[Agency]:
    return Agency.objects.filter(
        memberships__user=user, memberships__role__in=roles
    ).distinct()


def is_staff_member(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(roles_of(user))


def can_register(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Clerks register appeals (and leave portal submissions without consideration)."""
    return has_role(user, Role.CLERK)


def can_leave_without_consideration(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Clerks (at registration) and controllers (in their queue) may leave an appeal
    without consideration on a legal ground."""
    return bool(roles_of(user) & {Role.CLERK, Role.CONTROLLER})


def can_register_for(user: AbstractBaseUser, agency: Agency) -> bool:
    return Membership.objects.filter(user=user, agency=agency, role=Role.CLERK).exists()


def journal_agencies(user: AbstractBaseUser) -> QuerySet[Agency]:
    """Whose registration journal a staff member may read: their own agencies'."""
    return agencies_with_role(
        user, Role.CLERK, Role.CONTROLLER, Role.MANAGER, Role.HEAD
    )


# The roles that work on appeals themselves. Managers read statistics only (design.md:
# the reports and the figures), so no appeal opens to them: no card, file or letter.
APPEAL_ROLES = frozenset({Role.CLERK, Role.CONTROLLER, Role.HEAD, Role.EXECUTOR})
# Whose register opens to a role: the clerks' and controllers' own, a head's agency's.
REGISTER_ROLES = (Role.CLERK, Role.CONTROLLER, Role.HEAD)


def role_required(*roles: str):
    """A staff view for the given roles: anonymous visitors log in, others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not roles_of(request.user) & set(roles or Role.values):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def is_member(user: AbstractBaseUser, agency_id: int | None, *roles: str) -> bool:
    if agency_id is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(
        user=user, agency_id=agency_id, role__in=roles or Role.values
    ).exists()


def can_route(user: AbstractBaseUser | AnonymousUser) -> bool:
    """The chancellery's controllers send appeals to the competent agencies."""
    return has_role(user, Role.CONTROLLER)


def visible_appeals_q(user: AbstractBaseUser):
    """The appeals a staff member may open, as a filter (for lists and exports).

    Their agencies' register; appeals their agency works on now (heads: the whole
    agency; executors: the ones assigned to them); clerks also the portal queue.
    Managers none (APPEAL_ROLES).
    """

    roles = roles_of(user)
    if not roles & APPEAL_ROLES:
        return Q(pk__in=[])
    query = Q(registering_agency__in=agencies_with_role(user, *REGISTER_ROLES))
    if Role.CLERK in roles:
        query |= Q(status="submitted")
    active = Assignment.objects.filter(appeal=OuterRef("pk"), is_active=True)
    if Role.HEAD in roles:
        query |= Exists(active.filter(agency__in=agencies_with_role(user, Role.HEAD)))
    if Role.EXECUTOR in roles:
        query |= Exists(active.filter(executor=user))
    return query


def can_view_appeal(user: AbstractBaseUser | AnonymousUser, appeal) -> bool:
    """Staff open the appeals of their own agencies, and nothing else."""

    if not roles_of(user) & APPEAL_ROLES:
        return False
    return Appeal.objects.filter(visible_appeals_q(user), pk=appeal.pk).exists()


def viewable_appeal_ids(user: AbstractBaseUser, appeal_ids: Iterable[int]) -> set[int]:
    """Which of these appeals the user may open (`can_view_appeal` for a page of a
    list in one query): the rows a list links to their cards."""

    appeal_ids = list(appeal_ids)
    if not appeal_ids or not roles_of(user) & APPEAL_ROLES:
        return set()
    return set(
        Appeal.objects.filter(visible_appeals_q(user), pk__in=appeal_ids).values_list(
            "pk", flat=True
        )
    )
