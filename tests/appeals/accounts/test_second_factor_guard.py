"""The second factor guards every page that needs a login, by default.

The URLconf is walked (every pattern, in every language prefix): each page an
anonymous visitor is refused (sent to a login page, or 403) must send a controller, an
agency head and an administrator who gave only their password to the second-factor
step, not answer them. Only the steps of logging in and out stay open to them, and the
public pages; the public list is checked to hold public pages only.
"""

import re
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import translation

from appeals.accounts import middleware
from tests.factories import AgencyFactory, UserFactory, staff_member
from tests.helpers import second_factor_device

pytestmark = pytest.mark.django_db

# A value each path converter accepts; the views' own checks come after the login
# checks, so the object need not exist.
SAMPLE_VALUES = {"int": "1", "str": "x", "slug": "x", "path": "1", "uuid": "0" * 32}
LANGUAGES = [code for code, _name in settings.LANGUAGES]


@dataclass(frozen=True)
class Route:
    url: str
    view_name: str


def _sample_route(pattern: str) -> str:
    def converter(match: re.Match) -> str:
        return SAMPLE_VALUES[match.group(1) or "str"]

    return re.sub(r"<(?:(\w+):)?\w+>", converter, pattern)


def _sample_regex(pattern: str) -> str:
    def group(match: re.Match) -> str:
        body = match.group(1)
        if re.fullmatch(r"[\w|]+", body):  # a choice of words: the first one
            return body.split("|")[0]
        return "x"

    text = re.sub(r"\(\?P<\w+>([^)]*)\)", group, pattern)
    return text.replace("^", "").replace("$", "").replace("\\", "")


def _sample(pattern) -> str:
    text = str(pattern)
    if type(pattern).__name__ == "RegexPattern":
        return _sample_regex(text)
    return _sample_route(text)


def _routes(patterns, prefix: str = "", namespaces: tuple = ()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from _routes(
                entry.url_patterns, prefix + _sample(entry.pattern), inner
            )
        elif isinstance(entry, URLPattern):
            url = "/" + prefix + _sample(entry.pattern)
            match = resolve(url)
            # The sample must reach this very pattern, or the walk proves nothing.
            assert match.route.endswith(str(entry.pattern).lstrip("^")), url
            yield Route(url, match.view_name)


def all_routes() -> list[Route]:
    """Every pattern of the URLconf, under each language's prefix."""
    routes = {}
    for language in LANGUAGES:
        with translation.override(language):
            for route in _routes(get_resolver().url_patterns):
                routes.setdefault(route.url, route)
    return list(routes.values())


def _login_paths() -> tuple[str, ...]:
    return tuple(
        f"/{language}/{page}/login/"
        for language in LANGUAGES
        for page in ("staff", "admin")
    )


def _refused(response) -> bool:
    """Whether the page refused an anonymous visitor as someone who must log in."""
    if response.status_code == 403:
        return True
    return response.status_code == 302 and response["Location"].startswith(
        _login_paths()
    )


def _get(client: Client, url: str):
    response = client.get(url)
    if response.status_code == 405:  # a form's target: ask the way the form does
        response = client.post(url)
    return response


def _steps(language: str) -> tuple[str, ...]:
    return (
        f"/{language}/staff/login/code/?next=",
        f"/{language}/staff/login/authenticator/?next=",
    )


@pytest.fixture
def password_only():
    """Clients logged in with the password alone (no second factor yet)."""
    controller = staff_member("controller", username="controller")
    second_factor_device(controller)  # has an app: asked for its code
    head = staff_member("head", AgencyFactory(), username="head")  # no app yet
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin.save()
    clients = {}
    for user in (controller, head, admin):
        client = Client()
        client.force_login(user)
        clients[user.username] = client
    return clients


def test_the_open_steps_are_only_those_of_logging_in_and_out():
    assert middleware.OPEN_VIEWS == {
        "staff:login",
        "staff:logout",
        "staff:two_factor",
        "staff:two_factor_setup",
        "admin:login",
        "admin:logout",
    }


def test_the_walk_finds_every_kind_of_page():
    names = {route.view_name for route in all_routes()}
    for name in (
        "staff:card",
        "reports:download",
        "operations",
        "admin:index",
        "appeals:status",
    ):
        assert name in names
    urls = {route.url for route in all_routes()}
    for language in LANGUAGES:
        assert f"/{language}/statistics/manager/download/" in urls
        assert f"/{language}/admin/operations/" in urls


def test_every_page_that_needs_a_login_asks_a_password_only_user_for_the_code(
    password_only,
):
    anonymous = Client()
    guarded = []
    failures = []
    for route in all_routes():
        if route.view_name in middleware.OPEN_VIEWS:
            continue
        if not _refused(_get(anonymous, route.url)):
            continue
        guarded.append(route.url)
        language = route.url.split("/")[1]
        for username, client in password_only.items():
            response = _get(client, route.url)
            if not (
                response.status_code == 302
                and response["Location"].startswith(_steps(language))
            ):
                failures.append(f"{username} {route.url} -> {response.status_code}")
    assert len(guarded) > 100  # the staff workspace, the reports, the admin
    assert not failures, "\n".join(failures)


def test_every_page_on_the_public_list_opens_to_anonymous_visitors():
    """A page on the public list must open to anyone: a page that needs a login put
    there by mistake would skip the second factor."""
    anonymous = Client()
    public = [route for route in all_routes() if middleware.is_public(route.view_name)]
    assert {route.view_name for route in public} >= {"home", "appeals:track"}
    refused = [route.url for route in public if _refused(_get(anonymous, route.url))]
    assert not refused, "\n".join(refused)


def test_a_password_only_controller_does_not_download_the_statistics(password_only):
    response = password_only["controller"].get(
        "/en/statistics/manager/download/", {"format": "csv"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/en/staff/login/code/?next=")


def test_the_admins_password_alone_does_not_open_the_operations_page(password_only):
    response = password_only["root"].get("/ky/admin/operations/")
    assert response.status_code == 302
    assert response["Location"].startswith("/ky/staff/login/authenticator/?next=")
