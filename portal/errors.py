"""Error reports to a Sentry-compatible service, without personal data."""

from .logging import current_request_id, scrub, scrub_value

# Request parts that may hold what a citizen typed or who they are.
_DROPPED_REQUEST_KEYS = ("data", "cookies", "env")
_KEPT_HEADERS = {"user-agent", "accept-language", "x-request-id", "content-type"}


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float = 0.0):
    """Start reporting errors of Django views and Celery tasks to `dsn`."""
    # Only a deployment with SENTRY_DSN loads the SDK (and its integrations' imports).
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    return sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # send_default_pii stays at its default, False (newer SDKs warn when it is
        # passed at all); before_send removes what would still be personal.
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=traces_sample_rate,
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
    )


def before_send(event: dict, hint: dict) -> dict:
    """Tag the event with the request id; drop bodies, cookies, the user and most
    headers; scrub e-mails and phone numbers from every remaining string."""
    request_id = current_request_id()
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        for key in _DROPPED_REQUEST_KEYS:
            request.pop(key, None)
        request.pop("query_string", None)  # a tracking lookup's parameters
        headers = request.get("headers") or {}
        request["headers"] = {
            name: value
            for name, value in headers.items()
            if name.lower() in _KEPT_HEADERS
        }
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    return scrub_value(event)


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    if isinstance(crumb.get("message"), str):
        crumb["message"] = scrub(crumb["message"])
    crumb.pop("data", None)  # SQL parameters, HTTP bodies
    return crumb
