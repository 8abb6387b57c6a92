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
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(phone, text)
