"""SMS delivery behind a small interface: settings.SMS_BACKEND names a class with
`send(phone, text)`. The default only logs (no operator contract yet); a real
operator's gateway is one more class."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class LoggingBackend:
    """Writes the message to the log instead of sending it (development, tests)."""

    sent: list[tuple[str, str]] = []  # the last messages, for tests and the demo

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone[:-4] + "****", text[:160])
        LoggingBackend.sent = [*LoggingBackend.sent[-99:], (phone, text)]


def send(phone: str, text: str) -> None:
    backend = import_string(moved_path(settings.SMS_BACKEND))()
    backend.send(phone, text)


def moved_path(path: str) -> str:
    """A backend named by its home before the appeals app was split (appeals.sms): a
    deployment's setting may still say so."""
    old = "appeals.sms."
    return __name__ + "." + path[len(old) :] if path.startswith(old) else path
