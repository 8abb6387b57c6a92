"""Schemathesis against the OpenAPI schema: no 5xx, answers match the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis import checks

from appeals.intake import registration
from portal.wsgi import application

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


@pytest.fixture
def api_schema(keep_test_connection):
    # Loading the schema is a request through the WSGI app too.
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", application)


schema = schemathesis.pytest.from_fixture("api_schema")

pytestmark = pytest.mark.django_db


@pytest.fixture
def keep_test_connection():
    """Calls go through the WSGI app, not the test client: keep Django from closing
    the test's connection (inside its transaction) when a request ends, as the test
    client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def full_key(db, keep_test_connection, make_client, topic):
    issued = make_client()
    # Something to read: a registered appeal of the client's agency.
    registration.register_paper_appeal(
        actor=issued.client.user,
        agency=issued.client.agency,
        channel="president_office",
        form="written",
        kind="statement",
        applicant_name="Test Applicant",
        applicant_address="Bishkek",
        text="An appeal for the schema test.",
        language="ru",
        received_at=timezone.now(),
        cover_letter_number="1",
    )
    return issued.key


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_schema(case, full_key):
    case.call_and_validate(
        headers={"Authorization": f"Api-Key {full_key}"}, checks=CHECKS
    )


def test_schema_is_served_and_names_every_endpoint(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths) == {
        "/api/v1/appeals/",
        "/api/v1/appeals/{number}/",
        "/api/v1/appeals/{number}/additions/",
        "/api/v1/forwarded/",
    }


def test_docs_are_served_from_the_portal_itself(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    assert "<script>" not in html  # the start-up script is a file (CSP)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
