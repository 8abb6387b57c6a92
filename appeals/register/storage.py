"""Files stored inside a transaction: deleted again if it rolls back (Django has no
on-rollback hook), so a failed registration or answer leaves no orphan in storage."""

import contextvars
from contextlib import contextmanager

from django.db import transaction

_stored: contextvars.ContextVar[list] = contextvars.ContextVar("stored_files")


@contextmanager
def atomic_with_files():
    """transaction.atomic() that also deletes the files it stored if it rolls back."""
    token = _stored.set([])
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for storage, name in _stored.get():
            storage.delete(name)
        raise
    finally:
        _stored.reset(token)


def remember(storage, name: str) -> None:
    """A file just stored within atomic_with_files(): deleted if the block rolls back."""
    _stored.get().append((storage, name))
