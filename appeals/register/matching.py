"""Recognising the same applicant and the same matter: normalised keys, pure functions."""

import re

_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """'  Асанов  Бакыт ' and 'АСАНОВ БАКЫТ' are the same person's name."""
    return _SPACES.sub(" ", name.casefold().replace("ё", "е")).strip()[:300]


def phone_key(phone: str) -> str:
    """The last nine digits: '+996 (555) 12-34-56' and '0555 123456' match."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-9:] if len(digits) >= 6 else ""


def email_key(email: str) -> str:
    return email.strip().casefold()


def applicant_fields(
    *, name: str, address: str = "", phone: str = "", email: str = ""
) -> dict:
    """The applicant's fields of an Appeal with their normalised keys."""
    return {
        "applicant_name": name,
        "applicant_address": address,
        "applicant_phone": phone,
        "applicant_email": email,
        "applicant_name_key": name_key(name),
        "applicant_phone_key": phone_key(phone),
    }


_TRIGRAM_WORDS = re.compile(r"[^\W_]+")


def trigrams(text: str) -> set[str]:
    """The trigrams of a text as PostgreSQL's pg_trgm takes them: each word (letters
    and digits), lower-cased, padded with two spaces before and one after; ё as е."""
    grams = set()
    for word in _TRIGRAM_WORDS.findall(text.casefold().replace("ё", "е")):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def text_similarity(a: str, b: str, *, limit: int = 1000) -> float:
    """pg_trgm's similarity() of the two texts' first `limit` characters: shared
    trigrams over all trigrams, 0..1 (the clerk's similar-text search, in Python)."""
    first, second = trigrams(a[:limit]), trigrams(b[:limit])
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
