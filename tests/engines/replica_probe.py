"""Run one scenario of the portal against a primary and its replica and print what
happened as JSON: which database alias each query went to, what each connection says
of itself (pg_is_in_recovery()), the report's figures and the replica's metrics.

    DATABASE_URL=<primary> DATABASE_REPLICA_URL=<replica> \\
        python tests/engines/replica_probe.py report|atomic|request|seed|midway

A process of its own for each scenario (tests/portal/test_replica.py runs it): the
settings, the router and the health cache are those of a fresh portal process, not of
the pytest session's test database.
"""

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402

from portal import replica  # noqa: E402
from portal.periods import parse_period  # noqa: E402
from reports import selectors  # noqa: E402

CONNECTION_SETUP = "SELECT oid, typarray FROM pg_type"
queries: list[str] = []
statements: list[str] = []  # what ran on the replica


def _recording(alias: str):
    def wrapper(execute, sql, params, many, context):
        # Not the report's: the router's health check, and the type look-ups that
        # django.contrib.postgres makes when the check opens a connection.
        if sql != replica.LAG_SQL and not sql.startswith(CONNECTION_SETUP):
            queries.append(alias)
            if alias == "replica":
                statements.append(sql[:200])
        return execute(sql, params, many, context)

    return wrapper


def _aliases(run) -> tuple[dict, object]:
    """Run `run()` and count its queries by the alias they ran on."""
    queries.clear()
    statements.clear()
    with (
        connections["default"].execute_wrapper(_recording("default")),
        connections["replica"].execute_wrapper(_recording("replica")),
    ):
        result = run()
    return dict(Counter(queries)), result


def _in_recovery(alias: str) -> bool | None:
    """What the alias's connection says of its server; None when it cannot answer
    (the replica stopped)."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            return cursor.fetchone()[0]
    except Exception:
        connections[alias].close()
        return None


def _report() -> dict:
    year = timezone.localdate().year
    report = selectors.build_intake_report(period=parse_period(str(year)))
    stats = selectors.open_statistics(year=year, today=timezone.localdate())
    return {
        "report_written_total": report.current.written_total,
        "open_statistics_written_total": stats.written_total,
    }


def _fallbacks() -> dict:
    return {
        reason: REGISTRY.get_sample_value(
            "portal_replica_fallbacks_total", {"reason": reason}
        )
        or 0.0
        for reason in ("down", "lagging", "not_standby", "error")
    }


def _outcome(counts: dict, figures: dict) -> dict:
    return {
        "queries": counts,
        "in_recovery": {alias: _in_recovery(alias) for alias in counts},
        "figures": figures,
        "status": replica.status(),
        "on_replica": list(statements),
        "fallbacks": _fallbacks(),
        "up": REGISTRY.get_sample_value("portal_replica_up"),
    }


def seed() -> dict:
    from tests.factories import paper_appeal, staff_member

    clerk = staff_member("clerk", username=f"clerk-{os.getpid()}")
    for _n in range(3):
        paper_appeal(clerk)
    return {"seeded": 3}


def report() -> dict:
    return _outcome(*_aliases(_report))


def atomic() -> dict:
    def run():
        with transaction.atomic():
            return _report()

    return _outcome(*_aliases(run))


def request() -> dict:
    """A citizen files through the form and reads the receipt page (a write and a
    read of that write in the same request cycle), then opens the open statistics."""
    from tests.factories import TopicFactory, filing_form

    topic = TopicFactory(code=f"probe-{os.getpid()}")
    client = Client()
    counts, response = _aliases(
        lambda: client.post("/ky/appeal/", filing_form(topic.code), follow=True)
    )
    receipt = {
        "queries": counts,
        "status_code": response.status_code,
        "redirects": [url for url, _code in response.redirect_chain],
        "errors": _form_errors(response),
    }
    counts, response = _aliases(lambda: client.get("/ky/statistics/"))
    statistics = {"queries": counts, "status_code": response.status_code}
    # A state system's new key works at once (it is read on the primary); the list
    # of appeals it asks for is read on the replica.
    from agencies.models import Agency, ApiScope
    from appeals.api.clients import create_api_client

    issued = create_api_client(
        name="Probe",
        agency=Agency.objects.get(slug="gov-apparatus"),
        scopes=[ApiScope.READ_STATUS],
    )
    counts, response = _aliases(
        lambda: client.get(
            "/api/v1/appeals/", HTTP_AUTHORIZATION=f"Api-Key {issued.key}"
        )
    )
    api = {
        "queries": counts,
        "status_code": response.status_code,
        "results": len(response.json().get("results", [])),
    }
    ready = client.get("/readyz?check=database").json()
    return {
        "receipt": receipt,
        "statistics": statistics,
        "api": api,
        "readyz": ready,
        "status": replica.status(),
    }


def _form_errors(response) -> dict:
    form = (response.context or {}).get("form") if response.context else None
    return dict(form.errors) if form is not None else {}


def midway() -> dict:
    """The report on the replica; then the replica is stopped (PROBE_STOP, a JSON
    command) while this process still holds it healthy (REPLICA_HEALTH_SECONDS is
    long): the next report fails on the replica and runs again on the primary."""
    first = _outcome(*_aliases(_report))
    subprocess.run(json.loads(os.environ["PROBE_STOP"]), check=True)
    counts, figures = _aliases(_report)
    return {"first": first, "second": _outcome(counts, figures)}


def paths() -> dict:
    """The other heavy paths: the dashboard's figures and the journal's export (its
    rows read as the file streams, after the view has returned)."""
    from django.contrib.auth import get_user_model

    from appeals.oversight import figures, journal

    clerk = get_user_model().objects.filter(username__startswith="clerk-").first()
    year = timezone.localdate().year

    def dashboard():
        values = figures.figures_of_period(
            period=parse_period(str(year)),
            today=timezone.localdate(),
            agency_ids=None,
            by_agency=False,
        )
        return values[None]["received"]

    # The agencies in the clerk's scope are read here, on the primary; the rows as
    # they stream.
    rows = journal.journal_rows(user=clerk, filters=journal.JournalFilters())

    def export():
        return sum(1 for _row in replica.heavy_reads_stream(rows))

    return {
        name: _outcome(*_aliases(run))
        for name, run in (("dashboard", dashboard), ("export", export))
    }


SCENARIOS = {
    "paths": paths,
    "seed": seed,
    "report": report,
    "atomic": atomic,
    "request": request,
    "midway": midway,
}

if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]](), default=str))
