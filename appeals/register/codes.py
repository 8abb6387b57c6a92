"""Citizen-facing identifiers: tracking numbers and secret access codes.

Both are random (the `secrets` module), written in Crockford's base32 so they read and
type well (no I, L, O, U). A tracking number says nothing about the appeal or how many
there are; the access code carries 75 bits of randomness and only its keyed hash is
stored.

Imports of archival appeals draw their numbers a batch at a time
(`new_tracking_numbers`), as random as a citizen's: no citizen holds a code for those,
but a number must not tell where its neighbours are.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
TRACKING_LENGTH = 10  # 50 bits: random, unique by constraint, not a secret
ACCESS_CODE_LENGTH = 15  # 75 bits: the secret
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _random(length: int) -> str:
    # Five random bits a character, drawn at once: as uniform as `secrets.choice` per
    # character and several times cheaper (an import draws 100,000 numbers at a time).
    bits = secrets.randbits(5 * length)
    return "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(length))


def _group(value: str, size: int = 5) -> str:
    return "-".join(value[i : i + size] for i in range(0, len(value), size))


def new_tracking_number() -> str:
    """E.g. 'K7QM4-X2D9P': a random number, grouped for reading aloud."""
    return _group(_random(TRACKING_LENGTH))


def new_tracking_numbers(count: int) -> list[str]:
    """`count` distinct random tracking numbers at once, for archival appeals written
    in bulk. Each is drawn on its own, like a citizen's: numbers that ran on from a
    head (as imports had them until issue 25) let anyone who saw one list its
    neighbours. Unique in the database only by the constraint: a caller retries a
    batch on a clash."""
    numbers: set[str] = set()
    while len(numbers) < count:
        numbers.add(new_tracking_number())
    return list(numbers)


def new_access_code() -> str:
    return _group(_random(ACCESS_CODE_LENGTH))


def normalise(value: str) -> str:
    """What a person typed, in canonical form: upper case, no spaces or dashes."""
    cleaned = "".join(ch for ch in value.upper() if ch.isalnum())
    return cleaned.translate(_CONFUSABLE)


def normalise_tracking_number(value: str) -> str:
    return _group(normalise(value))


def hash_access_code(code: str, *, secret: str | None = None) -> str:
    key = (settings.SECRET_KEY if secret is None else secret).encode()
    return hmac.new(key, normalise(code).encode(), hashlib.sha256).hexdigest()


def check_access_code(code: str, stored_hash: str) -> bool:
    """The code against its stored hash, under SECRET_KEY or any of
    SECRET_KEY_FALLBACKS, so that rotating the key keeps every code working. Every
    key is tried, match or not: the time taken says nothing."""
    if not stored_hash:
        return False
    secrets_ = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    matches = [
        hmac.compare_digest(hash_access_code(code, secret=secret), stored_hash)
        for secret in secrets_
    ]
    return any(matches)
