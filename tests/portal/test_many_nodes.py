"""Many nodes: two web nodes (two gunicorn processes, each with its own local temporary
directory and MEDIA_ROOT), one database, one Redis, one bucket (moto's S3 server) and a
real Celery worker. What a citizen or a member of staff does on one node is seen on the
other; the rate limits and the login lockout hold across both; no node keeps on its own
disk anything another node needs."""

import email
import email.message
import json
import os
import re
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests

from agencies.models import Agency
from appeals.casework import routing
from appeals.models import Answer, Appeal, Attachment
from tests.engines.s3 import s3_server  # noqa: F401
from tests.factories import (
    ANSWER,
    TopicFactory,
    filing_form,
    ministry_of_health,
    staff_member,
    written_registration_form,
)
from tests.files import pdf_bytes, png_bytes
from tests.helpers import (
    celery_worker,
    current_code,
    database_url_for_tests,
    free_port,
    gunicorn,
    private_redis,
    second_factor_device,
    using_postgres,
    wait_for,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not using_postgres(), reason="many nodes share one PostgreSQL database"
    ),
]

PASSWORD = "a-long-test-password"  # tests.factories.UserFactory's
LIMITS = {"RATE_TRACK_PER_NUMBER": "4", "AXES_FAILURE_LIMIT": "3"}


@contextmanager
def web_node(name: str, workdir: Path, env: dict):
    """`gunicorn portal.wsgi` on a free port, with a local disk of its own."""
    local = workdir / name
    (local / "tmp").mkdir(parents=True)
    (local / "media").mkdir()
    with gunicorn(
        env={**env, "TMPDIR": str(local / "tmp"), "MEDIA_ROOT": str(local / "media")},
        log=local / "gunicorn.log",
        workers=2,
        args=["--worker-tmp-dir", str(local / "tmp")],
    ) as port:
        yield f"http://127.0.0.1:{port}", local


def post_form(session: requests.Session, url: str, data: dict, files=None):
    """A form posted as a browser does: with the CSRF cookie's token."""
    if "csrftoken" not in session.cookies:
        session.get(url)
    token = session.cookies["csrftoken"]
    response = session.post(
        url,
        data={**data, "csrfmiddlewaretoken": token},
        files=files,
        headers={"Referer": url},
        allow_redirects=False,
    )
    return response


def receipt_code(response: requests.Response, tracking_number: str) -> str:
    """The access code in the receipt cookie the filing answer set. Read from the raw
    header: requests' cookie jar strips the escaped quotes of Django's signed JSON
    cookies, which a browser sends back as they came."""
    for header in response.raw.headers.getlist("Set-Cookie"):
        if header.startswith("appeal_receipts="):
            value = header.split("=", 1)[1].split(";", 1)[0]
            receipts = json.loads(json.loads(value).rsplit(":", 2)[0])
            return receipts[tracking_number]
    raise AssertionError("no receipt cookie")


def staff_login(session: requests.Session, base: str, user) -> None:
    """The real login, password then the authenticator's code."""
    device = second_factor_device(user)
    response = post_form(
        session,
        f"{base}/ky/staff/login/",
        {"username": user.username, "password": PASSWORD},
    )
    assert response.status_code == 302, response.text[:2000]
    assert "/staff/login/code/" in response.headers["Location"]
    code = current_code(device)
    response = post_form(session, f"{base}/ky/staff/login/code/", {"code": code})
    assert response.status_code == 302, response.text[:2000]


def mailed(folder: Path) -> list[email.message.Message]:
    """Every message the worker's file mail backend wrote: a drain sends a batch over
    one connection, and Django writes the batch into one file, each message followed
    by a line of 79 dashes."""
    return [
        email.message_from_bytes(chunk)
        for path in sorted(folder.iterdir())
        for chunk in re.split(rb"\n-{79}\n", path.read_bytes())
        if chunk.strip()
    ]


def files_below(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


@pytest.fixture
def cluster(tmp_path, s3_server):  # noqa: F811
    """Two web nodes and a worker on one database, one Redis of the test's own (cache
    and broker: no counter or task of another test run) and one fresh bucket."""
    client = s3_server.client()
    bucket = "portal-nodes"
    client.create_bucket(Bucket=bucket)
    storage_url = s3_server.storage_url(bucket)
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    with ExitStack() as stack:
        redis_url = stack.enter_context(private_redis(tmp_path, free_port()))
        shared = {
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_RESULT_BACKEND": redis_url,
            "STORAGE_URL": storage_url,
        }
        queue = stack.enter_context(
            celery_worker(
                extra_env={
                    **shared,
                    "MEDIA_ROOT": str(tmp_path / "worker-media"),
                    "EMAIL_URL": f"filemail://{mail_dir}",
                }
            )
        )
        env = {
            **os.environ,
            **shared,
            "DEBUG": "1",
            "DATABASE_URL": database_url_for_tests(),
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            **LIMITS,
        }
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        node_a = stack.enter_context(web_node("a", tmp_path, env))
        node_b = stack.enter_context(web_node("b", tmp_path, env))
        yield {
            "a": node_a[0],
            "b": node_b[0],
            "disks": [
                node_a[1] / "media",
                node_b[1] / "media",
                tmp_path / "worker-media",
            ],
            "mail": mail_dir,
            "bucket": lambda: sorted(
                item["Key"]
                for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])
            ),
            "read": lambda key: client.get_object(Bucket=bucket, Key=key)[
                "Body"
            ].read(),
        }


def test_what_one_node_does_the_other_sees(cluster):
    a, b = cluster["a"], cluster["b"]
    gov = Agency.objects.get(slug="gov-apparatus")
    ministry = ministry_of_health()
    clerk = staff_member("clerk", username="clerk")
    people = {
        "controller": staff_member("controller", username="controller"),
        "head": staff_member("head", ministry, username="head"),
        "executor": staff_member("executor", ministry, username="executor"),
    }
    topic = TopicFactory(code="utilities")

    # A citizen files on node A with a photo, and tracks the appeal on node B.
    citizen = requests.Session()
    photo = png_bytes(6, 6)
    form = filing_form(topic.code)
    response = post_form(
        citizen,
        f"{a}/ky/appeal/",
        form,
        files={"attachments": ("фото.png", photo, "image/png")},
    )
    assert response.status_code == 302, response.text[:3000]
    filed = Appeal.objects.get(submission_key=form["submission_key"])
    code = receipt_code(response, filed.tracking_number)
    photo_key = Attachment.objects.get(appeal=filed).file.name
    assert cluster["read"](photo_key) == photo
    stranger = requests.Session()
    status = post_form(
        stranger,
        f"{b}/ky/track/",
        {"tracking_number": filed.tracking_number, "access_code": code},
    )
    assert status.status_code == 302
    assert (
        filed.tracking_number in stranger.get(f"{b}{status.headers['Location']}").text
    )

    # A clerk logs in on node A and registers a paper letter with its scan on node B.
    office = requests.Session()
    staff_login(office, a, clerk)
    scan = pdf_bytes()
    response = post_form(
        office,
        f"{b}/ky/staff/register/written/",
        written_registration_form(
            agency=str(gov.pk), applicant_email="erlan@example.kg"
        ),
        files={"scan": ("скан.pdf", scan, "application/pdf")},
    )
    assert response.status_code == 302, response.text[:3000]
    letter = Appeal.objects.exclude(pk=filed.pk).get()
    stored_scan = Attachment.objects.get(appeal=letter)
    assert stored_scan.file.name in cluster["bucket"]()

    # Routed and assigned; the executor opens the scan on node A.
    routing.route_appeal(appeal_id=letter.pk, actor=people["controller"], lead=ministry)
    routing.assign_executor(
        appeal_id=letter.pk, actor=people["head"], executor=people["executor"]
    )
    executor = requests.Session()
    staff_login(executor, a, people["executor"])
    download = executor.get(f"{a}/ky/staff/attachments/{stored_scan.pk}/")
    assert download.status_code == 200 and download.content == scan

    # The executor answers on node A, the head approves on node B (the letter is
    # rendered there, into the bucket); the worker mails the letter, read from the
    # bucket; it downloads the same from both nodes.
    response = post_form(
        executor,
        f"{a}/ky/staff/inbox/{letter.pk}/",
        {"action": "submit", "text": ANSWER, "outcome": "supported"},
    )
    assert response.status_code == 302, response.text[:3000]
    head = requests.Session()
    staff_login(head, b, people["head"])
    response = post_form(
        head, f"{b}/ky/staff/inbox/{letter.pk}/", {"action": "approve"}
    )
    assert response.status_code == 302, response.text[:3000]
    answer = Answer.objects.get(appeal=letter)
    assert answer.letter.name in cluster["bucket"]()
    issued = cluster["read"](answer.letter.name)
    for node in (a, b):
        response = executor.get(f"{node}/ky/staff/answers/{answer.pk}/letter.pdf")
        assert response.status_code == 200 and response.content == issued

    def mailed_letter():
        for message in mailed(cluster["mail"]):
            for part in message.walk():
                if part.get_content_type() == "application/pdf":
                    return part.get_payload(decode=True)
        return None

    assert wait_for(mailed_letter, timeout=60) == issued

    # Nothing of this stayed on a node's own disk (nor the worker's).
    for disk in cluster["disks"]:
        assert files_below(disk) == [], disk


def test_rate_limits_and_lockout_hold_across_nodes(cluster):
    a, b = cluster["a"], cluster["b"]
    clerk = staff_member("clerk", username="clerk")

    # Four wrong codes for one number, spread over both nodes: the fifth is refused
    # on either node (RATE_TRACK_PER_NUMBER=4).
    guesser = requests.Session()
    number = "KG-0000-0000-00"
    for node in (a, b, a, b):
        response = post_form(
            guesser,
            f"{node}/ky/track/",
            {"tracking_number": number, "access_code": "WRONG-CODE"},
        )
        assert response.status_code != 429
    response = post_form(
        guesser,
        f"{a}/ky/track/",
        {"tracking_number": number, "access_code": "WRONG-CODE"},
    )
    assert response.status_code == 429

    # Three wrong passwords over both nodes lock the account on both
    # (AXES_FAILURE_LIMIT=3): the right password no longer opens the second step.
    intruder = requests.Session()
    for node in (a, b, a):
        response = post_form(
            intruder,
            f"{node}/ky/staff/login/",
            {"username": clerk.username, "password": "not-the-password"},
        )
        assert "/staff/login/code/" not in response.headers.get("Location", "")
    for node in (a, b):
        response = post_form(
            requests.Session(),
            f"{node}/ky/staff/login/",
            {"username": clerk.username, "password": PASSWORD},
        )
        assert response.status_code == 429, node
