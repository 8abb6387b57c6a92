"""Sessions in the database (a cache outage must not break filing), read with a
prepared query: every request that carries a session cookie reads its row, and Django's
query for it costs more CPU to compile than to run (see portal/prepared.py)."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from .prepared import PreparedQuery

# A session key is never empty (Django's are 32 characters).
_SESSION_BY_KEY = PreparedQuery(
    lambda key: Session.objects.filter(session_key=key)[:1], key=""
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        key = self.session_key  # None or a valid key: SessionBase checks its shape
        found = _SESSION_BY_KEY(key=key) if key else []
        # Expiry is checked here rather than in SQL: the key alone finds the row.
        if found and found[0].expire_date > timezone.now():
            return found[0]
        self._session_key = None
        return None
