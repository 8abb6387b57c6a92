"""The embeddable filing form: framed by the agency's own sites only, CSRF working
inside the frame, the same form and protections as the portal's page."""

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from agencies.models import Agency
from appeals.models import Appeal
from tests.helpers import SCREENSHOTS, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def agency(topic):
    agency = Agency.objects.get(slug="gov-apparatus")
    agency.embed_origins = "https://www.gov.kg\nhttps://president.kg"
    agency.save()
    return agency


def form_data(topic, key, **changes) -> dict:
    data = {
        "submission_key": str(key),
        "addressee": "gov-apparatus",
        "kind": "statement",
        "topic": topic.code,
        "text": "Айылдагы көпүрө бузулуп, балдар мектепке бара албай жатышат.",
        "applicant_name": "Асанов Бакыт",
        "applicant_phone": "+996 555 123 456",
        "is_collective": "0",
        "language": "ky",
        "consent": "on",
        "website": "",
    }
    data.update(changes)
    return data


def csrf_client():
    return Client(enforce_csrf_checks=True)


def get_form(client, lang="ky"):
    response = client.get(f"/{lang}/embed/gov-apparatus/")
    assert response.status_code == 200
    return response, client.cookies["csrftoken"].value


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_embed_page_in_each_language_with_agency_preselected(client, agency, lang):
    response = client.get(f"/{lang}/embed/gov-apparatus/")
    assert response.status_code == 200
    assert response["Content-Language"] == lang
    html = response.content.decode()
    assert 'name="addressee" value="gov-apparatus"' in html
    assert 'name="website"' in html  # the honeypot
    assert "site-header" not in html  # minimal chrome


def test_embed_may_be_framed_by_the_agencys_sites_only(client, agency):
    response = client.get("/ky/embed/gov-apparatus/")
    assert "X-Frame-Options" not in response
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.gov.kg https://president.kg" in policy
    # Every other page keeps refusing frames.
    other = client.get("/ky/appeal/")
    assert other["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in other["Content-Security-Policy"]


def test_csrf_cookie_of_the_embed_works_in_a_third_party_frame(client, agency):
    response = client.get("/ky/embed/gov-apparatus/")
    cookie = response.cookies["csrftoken"]
    assert cookie["samesite"] == "None"
    assert cookie["secure"] is True


def test_embed_files_an_appeal_with_csrf_enforced(agency, topic):
    client = csrf_client()
    _response, token = get_form(client)
    key = uuid.uuid4()
    response = client.post(
        "/ky/embed/gov-apparatus/",
        {**form_data(topic, key), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    appeal = Appeal.objects.get()
    assert appeal.addressee == agency
    assert appeal.tracking_number in response.content.decode()
    assert 'id="access-code"' in response.content.decode()
    assert response["Content-Security-Policy"].count("https://president.kg") == 1


def test_embed_refuses_a_post_without_csrf_token(agency, topic):
    client = csrf_client()
    get_form(client)
    response = client.post("/ky/embed/gov-apparatus/", form_data(topic, uuid.uuid4()))
    assert response.status_code == 403
    assert not Appeal.objects.exists()


def test_embed_accepts_a_post_from_its_own_page_without_any_cookie(agency, topic):
    # What a browser that blocks third-party cookies sends from inside the frame.
    client = csrf_client()
    response = client.post(
        "/ky/embed/gov-apparatus/",
        form_data(topic, uuid.uuid4()),
        HTTP_ORIGIN="http://testserver",
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert response.status_code == 200
    assert Appeal.objects.get().addressee == agency
    fetch_only = client.post(
        "/ky/embed/gov-apparatus/",
        form_data(topic, uuid.uuid4()),
        HTTP_SEC_FETCH_SITE="same-origin",
    )
    assert fetch_only.status_code == 200
    assert Appeal.objects.count() == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example", "HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "https://www.gov.kg"},  # the framing site itself may not post
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "cross-site"},
    ],
    ids=["other-site", "framing-site", "cross-site-fetch", "opaque-origin"],
)
def test_embed_refuses_a_post_from_another_site_even_with_a_token(
    agency, topic, headers
):
    client = csrf_client()
    _response, token = get_form(client)
    response = client.post(
        "/ky/embed/gov-apparatus/",
        {**form_data(topic, uuid.uuid4()), "csrfmiddlewaretoken": token},
        **headers,
    )
    assert response.status_code == 403
    assert not Appeal.objects.exists()


def test_resending_the_same_form_creates_nothing_new(client, agency, topic):
    key = uuid.uuid4()
    client.post("/ky/embed/gov-apparatus/", form_data(topic, key))
    again = client.post("/ky/embed/gov-apparatus/", form_data(topic, key))
    assert again.status_code == 200
    assert Appeal.objects.count() == 1
    assert 'id="access-code"' not in again.content.decode()


def test_embed_honeypot_and_consent_as_the_portal(client, agency, topic):
    trapped = client.post(
        "/ky/embed/gov-apparatus/",
        form_data(topic, uuid.uuid4(), website="http://spam"),
    )
    no_consent = client.post(
        "/ky/embed/gov-apparatus/", form_data(topic, uuid.uuid4(), consent="")
    )
    assert trapped.status_code == no_consent.status_code == 400
    assert not Appeal.objects.exists()


def test_embed_shares_the_portals_rate_limit(client, agency, topic, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit": (1, 3600)}
    client.post("/ky/embed/gov-apparatus/", form_data(topic, uuid.uuid4()))
    blocked = client.post("/ky/appeal/", form_data(topic, uuid.uuid4()))
    assert blocked.status_code == 429
    assert Appeal.objects.count() == 1


def test_embed_files_only_to_its_own_agency(client, agency, topic, other_agency):
    response = client.post(
        "/ky/embed/gov-apparatus/",
        form_data(topic, uuid.uuid4(), addressee=other_agency.slug),
    )
    assert response.status_code == 404
    assert client.get("/ky/embed/no-such-agency/").status_code == 404


def test_embed_origins_are_validated():
    from django.core.exceptions import ValidationError

    from agencies.models import validate_origins

    validate_origins("https://mvd.gov.kg\nhttp://localhost:8080")
    for bad in ("https://*.gov.kg", "javascript:alert(1)", "https://a.kg/path", "x"):
        with pytest.raises(ValidationError):
            validate_origins(bad)


# --- in Chromium: a page on another origin frames the form and sends it -------------


class _Framing(BaseHTTPRequestHandler):
    html = b""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args):
        pass


@pytest.fixture(params=[0, 1], ids=["third-party-cookies-allowed", "blocked"])
def chromium_profile(request, tmp_path, monkeypatch):
    """Chromium with a profile as a default desktop Chrome has it (third-party
    cookies allowed), and as Safari or a citizen who blocks them has it: the frame
    then gets no CSRF cookie at all. `cookie_controls_mode` is Chrome's setting
    (0 allow, 1 block third-party cookies)."""
    import json

    from tests.helpers import CHROMIUM_ARGS, chromium_path, playwright_running

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    (tmp_path / "profile" / "Default").mkdir(parents=True)
    (tmp_path / "profile" / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"cookie_controls_mode": request.param}})
    )
    with playwright_running() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=chromium_path(),
            args=CHROMIUM_ARGS,
            viewport={"width": 1000, "height": 1600},
        )
        context.blocks_3pc = bool(request.param)
        yield context
        context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.browser
@pytest.mark.slow
def test_a_site_of_the_agency_frames_the_form_and_a_citizen_sends_it(
    live_server, chromium_profile
):
    from tests.factories import TopicFactory

    TopicFactory(code="roads", name_ky="Жолдор")
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    Agency.objects.filter(slug="gov-apparatus").update(embed_origins=site)
    # The portal on localhost, the agency's site on 127.0.0.1: two different sites,
    # so the frame's cookies are third-party cookies.
    portal = live_server.url.replace("127.0.0.1", "localhost")
    _Framing.html = (
        "<!doctype html><html><body><h1>Agency site</h1>"
        f'<iframe id="portal" src="{portal}/ru/embed/gov-apparatus/" '
        'width="900" height="1500"></iframe></body></html>'
    ).encode()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Framing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = chromium_profile.new_page()
        page.goto(site)
        frame = page.frame_locator("#portal")
        frame.locator("#id_kind_1").check()
        frame.locator("#id_topic").select_option("roads")
        frame.locator("#id_text").fill(
            "На трассе Бишкек — Ош разрушено дорожное покрытие у села."
        )
        frame.locator("#id_applicant_name").fill("Токтосунова Гульнара")
        frame.locator("#id_applicant_email").fill("gulnara@example.kg")
        frame.locator("#id_consent").check()
        portal_cookies = [
            cookie["name"]
            for cookie in chromium_profile.cookies()
            if cookie["domain"] == "localhost"
        ]
        # Both browsers really differ: only one of them holds the frame's cookie.
        assert ("csrftoken" in portal_cookies) == (chromium_profile.blocks_3pc is False)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "embed-framed-ru.png"), full_page=True)
        frame.locator("button[type=submit]").click()
        frame.locator("#tracking-number").wait_for(timeout=20_000)
        page.screenshot(path=str(SCREENSHOTS / "embed-sent-ru.png"), full_page=True)
        tracking = frame.locator("#tracking-number").inner_text()
    finally:
        # Closing the browser ends its keep-alive connections, so the live server's
        # request threads end and close their database connections.
        chromium_profile.close()
        server.shutdown()
        server.server_close()
    appeal = Appeal.objects.get()
    assert appeal.tracking_number == tracking
    assert appeal.addressee.slug == "gov-apparatus"
    assert appeal.language == "ru"
