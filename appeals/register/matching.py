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
