"""Who may see and do what: one place, used by views and services."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from agencies.models import Agency, Membership

Role = Membership.Role


def has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.memberships.filter(role=role).exists()


def agencies_with_role(user: AbstractBaseUser, role: str):
    return Agency.objects.filter(memberships__user=user, memberships__role=role)


def can_register(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Clerks register appeals (and leave portal submissions without consideration)."""
    return has_role(user, Role.CLERK)
