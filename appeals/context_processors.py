"""The staff workspace's menu: what each role may open, from one table."""

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from agencies.models import Membership
from appeals.register import permissions

Role = Membership.Role

# (url name, label, roles that see it); an entry whose URL does not exist yet is left out.
MENU = [
    ("staff:dashboard", _("Workspace"), set(Role.values)),
    ("staff:queue", _("Portal submissions"), {Role.CLERK}),
    ("staff:register_written", _("Register a written appeal"), {Role.CLERK}),
    ("staff:register_oral", _("Register an oral appeal"), {Role.CLERK}),
    ("staff:controllers_queue", _("Appeals to route"), {Role.CONTROLLER}),
    ("staff:inbox", _("Agency inbox"), {Role.HEAD, Role.EXECUTOR}),
    ("staff:figures", _("Figures"), {Role.CONTROLLER, Role.HEAD, Role.MANAGER}),
    (
        "staff:journal",
        _("Registration journal"),
        {Role.CLERK, Role.CONTROLLER, Role.MANAGER, Role.HEAD},
    ),
    ("reports:manager", _("Reports"), {Role.MANAGER, Role.CONTROLLER, Role.HEAD}),
    ("staff:data_requests", _("Requests for personal data"), {Role.CLERK}),
]


def staff(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not permissions.is_staff_member(user):
        return {}
    roles = permissions.roles_of(user)
    items = []
    for name, label, allowed in MENU:
        if not roles & allowed:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "current": request.path == url})
    return {"staff_menu": items, "staff_memberships": permissions.memberships_of(user)}
