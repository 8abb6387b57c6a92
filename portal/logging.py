"""What the logs carry: a request id that follows a request into its Celery tasks, and
no personal data (e-mail addresses and phone numbers are scrubbed from every line)."""

import contextvars
import logging
import re
import traceback
import uuid

from celery.signals import before_task_publish, task_postrun, task_prerun

# The id of the request (or of the task started by a request) being handled now.
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default="-"
)
REQUEST_ID_HEADER = "X-Request-ID"
# The Celery message header that carries it to the worker.
TASK_HEADER = "request_id"
# What a proxy may hand us: a UUID, a hex or base64url token; never free text.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Phone numbers as people write them (+996 555 123 456, 0555-12-34-56, 996555123456),
# also when partly masked with *: 9 to 15 digits after a + , a 0 or 996.
PHONE = re.compile(r"(?<![\w+*-])(?:\+\d|\b0|\b996)(?:[\s()-]?[\d*]){8,14}(?![\w*])")
SCRUBBED_EMAIL = "[email]"
SCRUBBED_PHONE = "[phone]"


def new_request_id() -> str:
    return uuid.uuid4().hex


def sane_request_id(value: str | None) -> str | None:
    """The id a proxy sent, if it looks like one (it ends up in logs and headers)."""
    if value and _SANE_ID.match(value):
        return value
    return None


def current_request_id() -> str | None:
    value = request_id_var.get()
    return None if value == "-" else value


def scrub(text: str) -> str:
    """The text with e-mail addresses and phone numbers replaced."""
    return PHONE.sub(SCRUBBED_PHONE, EMAIL.sub(SCRUBBED_EMAIL, text))


def scrub_value(value):
    """Strings scrubbed inside dicts, lists and tuples too (for Sentry events)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(item) for item in value)
    return value


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (a dash outside any request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a response after the middleware has returned; the
        # request it passes along still knows its id.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class PersonalDataFilter(logging.Filter):
    """Scrubs e-mails and phone numbers from the message, its arguments and the
    traceback before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "_scrubbed", False):
            try:
                message = record.getMessage()
            except Exception:  # a bad format string: keep what there is
                message = str(record.msg)
            record.msg = scrub(message)
            record.args = None
            if record.exc_info:
                record.exc_text = scrub(
                    "".join(traceback.format_exception(*record.exc_info)).rstrip()
                )
                record.exc_info = None
            elif record.exc_text:
                record.exc_text = scrub(record.exc_text)
            for key, value in list(vars(record).items()):
                if key not in _STANDARD_ATTRIBUTES and isinstance(
                    value, str | dict | list | tuple
                ):
                    setattr(record, key, scrub_value(value))
            record._scrubbed = True
        return True


_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "request_id",
}


# --- Celery: the request id travels in the task message's headers ----------------------


@before_task_publish.connect(dispatch_uid="portal.logging.publish")
def _put_request_id_in_headers(headers=None, **kwargs) -> None:
    request_id = current_request_id()
    if headers is not None and request_id and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


_task_tokens: dict[str, contextvars.Token] = {}


@task_prerun.connect(dispatch_uid="portal.logging.prerun")
def _restore_request_id(task_id=None, task=None, **kwargs) -> None:
    request_id = sane_request_id(getattr(task.request, TASK_HEADER, None))
    # A periodic task has no request: it gets an id of its own for its log lines.
    _task_tokens[task_id] = request_id_var.set(request_id or new_request_id())


@task_postrun.connect(dispatch_uid="portal.logging.postrun")
def _forget_request_id(task_id=None, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # set in another context (thread pools)
            request_id_var.set("-")
