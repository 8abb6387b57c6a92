"""Flags for the clerk and the controller: non-binding hints about an appeal's
admissibility, computed from its fields when it arrives. They never decide anything:
a flagged appeal is registered, routed and answered like any other unless a person
leaves it without consideration on a legal ground.

`compute_flags` is pure (the word list and the earlier answered appeal are passed in);
`flags_on_arrival` gives it the cached word list and looks the earlier appeal up (for
the citizen's filing, at registration instead: see there).
"""

import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from appeals.models import Appeal, FlagWord, Outcome, Status
from appeals.register import matching


class FlagCode:
    """Stable codes of the flags, and the reason each shows (translated)."""

    NO_NAME = "no_name"
    NO_CONTACT = "no_contact"
    ALL_CAPITALS = "all_capitals"
    LATIN_RUSSIAN = "latin_russian"
    OFFENSIVE_WORDS = "offensive_words"
    REPEAT_ANSWERED = "repeat_answered"


REASONS = {
    FlagCode.NO_NAME: _("The applicant gave no name."),
    FlagCode.NO_CONTACT: _(
        "There is no postal address, phone or e-mail to send the answer to."
    ),
    FlagCode.ALL_CAPITALS: _("The text is written entirely in capital letters."),
    FlagCode.LATIN_RUSSIAN: _("The text looks like Russian written in Latin letters."),
    FlagCode.OFFENSIVE_WORDS: _(
        "The text seems to contain obscene or insulting words (%(count)s)."
    ),
    FlagCode.REPEAT_ANSWERED: _(
        "The same applicant's appeal %(number)s on a similar matter was already "
        "answered."
    ),
}


# A few words for the queues' column; the cards show the whole reason.
SHORT = {
    FlagCode.NO_NAME: _("no name"),
    FlagCode.NO_CONTACT: _("no address for the answer"),
    FlagCode.ALL_CAPITALS: _("all capitals"),
    FlagCode.LATIN_RUSSIAN: _("Russian in Latin letters"),
    FlagCode.OFFENSIVE_WORDS: _("offensive words"),
    FlagCode.REPEAT_ANSWERED: _("repeat of an answered appeal"),
}


@dataclass(frozen=True)
class ShownFlag:
    code: str
    reason: str
    short: str


def described(flags: Iterable[dict] | None) -> list[ShownFlag]:
    """The stored flags with their reasons, in the active language (unknown codes,
    from a later version, are left out)."""
    shown = []
    for flag in flags or ():
        reason = REASONS.get(flag.get("code"))
        if reason is None:
            continue
        detail = flag.get("detail", "")
        text = str(reason)
        if "%(" in text:
            text = text % {"count": detail, "number": detail}
        shown.append(
            ShownFlag(code=flag["code"], reason=text, short=str(SHORT[flag["code"]]))
        )
    return shown


# --- The pure part ---------------------------------------------------------------------

# A name that is no name: fewer than two letters, or a word for "anonymous".
_NO_NAMES = frozenset(
    {
        "аноним",
        "анонимно",
        "анонимный",
        "без имени",
        "нет",
        "жок",
        "аты жок",
        "белгисиз",
        "anonymous",
        "anon",
        "none",
        "no name",
        "n/a",
    }
)
# Shorter texts in capitals ("OK", an abbreviation, a short heading) are not flagged.
MIN_CAPITAL_LETTERS = 20


def _has_name(name: str) -> bool:
    key = matching.name_key(name).strip(" .-")
    letters = sum(ch.isalpha() for ch in key)
    return letters >= 2 and key not in _NO_NAMES


def _has_contact(address: str, phone: str, email: str) -> bool:
    return bool(address.strip() or matching.phone_key(phone) or email.strip())


def is_all_capitals(text: str) -> bool:
    """Every cased letter is a capital, and there are enough of them to matter."""
    capitals = 0
    for ch in text:
        if ch.islower():
            return False
        if ch.isupper():
            capitals += 1
    return capitals >= MIN_CAPITAL_LETTERS


# Common Russian words as people write them in Latin letters. Words that are English
# too ("my", "on", "do", "no", "i", "net", "let") are in neither list.
_RUSSIAN_LATIN_WORDS = frozenset(
    """
    zdravstvuyte zdravstvuite zdrastvuyte zdrastvuite zdravstvujte pozhaluysta
    pozhaluista pojaluista pojaluysta pozhalujsta spasibo uvazhaemyy uvazhaemyi
    uvazhaemiy uvazhaemye uvazhaemaya uvajaemyi gospodin ya menya mne moy moya moyu
    moi moego moyego moey nash nasha nashi nashego nas nam vash vasha vas vam vy ty
    on ona oni ikh ih ego yego yeyo eyo ee eto etot eta etogo etu chto shto chtoby
    kak kogda gde pochemu potomu uzhe uje yeshche eshche eshe esche ochen tolko mozhno
    mojno nuzhno nujno nado prosim proshu pomogite pomogi pomoch pomoshch pomosh
    khochu hochu mogu mozhet mojet budet bylo byl byla byli est v na po za ot iz
    ne ni s u k pri bez dlya ili tozhe takzhe vse vsyo vsem vsekh tak tam tut zdes seychas
    sejchas segodnya vchera zavtra goda mesyats mesyatsa mesyaca khorosho horosho
    plokho ploho zakon resheniye reshenie otvet otveta nikto nichego nikak deti
    detey doch muzh zhena bolnitsa vrach shkola shkoly voda svet doroga dorogi
    zarplata zarplatu pensiya pensiyu pensii posobie posobiye kotoryy kotoryi kotorye
    chelovek lyudi dom doma gorod goroda ulitsa ulitse ulica rayon raion rayona
    oblast kvartira kvartiru rabota rabotu raboty dengi vopros zhaloba obrashchenie
    obrashcheniye obrashenie problema kvartiroy sosedi administratsiya administraciya vlasti sud suda
    """.split()
)
_ENGLISH_WORDS = frozenset(
    """
    the and of to is are was were be been being have has had you your yours for
    with this that these those it its not but from by at an will would can could
    should shall please dear sir madam thank thanks we our us they their them there
    which what when where who whom why how about me am in into out since after
    before because all any some been also only just very more most other than then
    street city house home water help problem school money road month months year
    years office appeal complaint request answer government ministry
    """.split()
)
# Spellings English words rarely have: shch, zh, kh; -yy, -iy, -aya; ya-, yu-.
_RUSSIAN_LATIN_SPELLING = re.compile(r"shch|zh|kh|yy$|iy$|aya$|^y[aeou]|[^aeiou]y[au]")
_LATIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def looks_like_latin_russian(text: str) -> bool:
    """Russian in Latin letters ("Zdravstvuyte, ya ne mogu poluchit' pensiyu"), not
    English, not Kyrgyz in Latin letters, not a Cyrillic text quoting a Latin name."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum("a" <= ch <= "z" for ch in text.casefold())
    if not letters or latin < 0.7 * len(letters):
        return False
    words = _LATIN_WORD.findall(text.casefold())
    if len(words) < 3:
        return False
    russian = sum(word in _RUSSIAN_LATIN_WORDS for word in words)
    english = sum(word in _ENGLISH_WORDS for word in words)
    spelled = sum(
        bool(_RUSSIAN_LATIN_SPELLING.search(word))
        for word in words
        if word not in _RUSSIAN_LATIN_WORDS and word not in _ENGLISH_WORDS
    )
    score = russian + 0.5 * spelled
    return (
        russian >= 2 and russian > 2 * english and score >= max(2.0, 0.2 * len(words))
    )


def _normalised(text: str) -> str:
    return text.casefold().replace("ё", "е")


class WordMatcher:
    """Finds words that start with one of the stems (case-insensitive, ё as е)."""

    def __init__(self, stems: Iterable[str]) -> None:
        stems = sorted({_normalised(s.strip()) for s in stems if s.strip()}, key=len)
        self._pattern = (
            re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(s) for s in reversed(stems)) + ")"
            )
            if stems
            else None
        )

    def count(self, text: str) -> int:
        if self._pattern is None:
            return 0
        return len(self._pattern.findall(_normalised(text)))


def compute_flags(
    *,
    name: str,
    address: str = "",
    phone: str = "",
    email: str = "",
    text: str = "",
    words: WordMatcher | None = None,
    answered_earlier: Appeal | None = None,
) -> list[dict]:
    """The flags of an appeal's fields: [{"code": ..., "detail": ...}], in a fixed
    order. `answered_earlier` is the same applicant's answered appeal on a similar
    matter, if any (`answered_repeat_of`)."""
    flags = []
    if not _has_name(name):
        flags.append({"code": FlagCode.NO_NAME, "detail": ""})
    if not _has_contact(address, phone, email):
        flags.append({"code": FlagCode.NO_CONTACT, "detail": ""})
    if is_all_capitals(text):
        flags.append({"code": FlagCode.ALL_CAPITALS, "detail": ""})
    if looks_like_latin_russian(text):
        flags.append({"code": FlagCode.LATIN_RUSSIAN, "detail": ""})
    found = words.count(text) if words is not None else 0
    if found:
        # How many, never which: the list stays with the staff and the admin.
        flags.append({"code": FlagCode.OFFENSIVE_WORDS, "detail": str(found)})
    return with_repeat(flags, answered_earlier)


# --- With the database: the word list and the earlier answered appeal -----------------

ANSWERED_OUTCOMES = (Outcome.SUPPORTED, Outcome.EXPLAINED, Outcome.NOT_SUPPORTED)
# pg_trgm's default threshold, as the clerk's similar-text search uses.
SAME_MATTER_SIMILARITY = 0.3
# The same applicant's answered appeals compared, newest first.
REPEAT_CANDIDATES = 20


def _is_same_matter(earlier: Appeal, text: str) -> bool:
    return (
        earlier.is_answered
        and matching.text_similarity(earlier.text, text) >= SAME_MATTER_SIMILARITY
    )


def answered_repeat_of(
    *, name: str, phone: str = "", email: str = "", text: str = ""
) -> Appeal | None:
    """The same applicant's (as appeals.intake.queries finds them: the normalised name
    with the same phone or e-mail) latest answered appeal whose text is similar. One
    query on the applicant index; none without a name, a phone or e-mail, and a text."""
    contact = Q()
    if matching.phone_key(phone):
        contact |= Q(applicant_phone_key=matching.phone_key(phone))
    if email.strip():
        contact |= Q(applicant_email__iexact=email.strip())
    if not (name.strip() and contact and text.strip()):
        return None
    candidates = (
        Appeal.objects.filter(
            Q(applicant_name_key=matching.name_key(name)) & contact,
            status=Status.CLOSED,
            outcome__in=ANSWERED_OUTCOMES,
        )
        .order_by("-received_at")
        .only("pk", "registration_number", "text", "status", "outcome")[
            :REPEAT_CANDIDATES
        ]
    )
    return next((e for e in candidates if _is_same_matter(e, text)), None)


def repeat_among(earlier: Iterable[Appeal], text: str) -> Appeal | None:
    """`answered_repeat_of` among appeals already read (the clerk's page has the same
    applicant's earlier appeals at hand): no query."""
    return next((e for e in earlier if _is_same_matter(e, text)), None)


def with_repeat(stored: list[dict], earlier: Appeal | None) -> list[dict]:
    """The stored flags with the repeat flag for `earlier` (once)."""
    if earlier is None or any(f["code"] == FlagCode.REPEAT_ANSWERED for f in stored):
        return list(stored)
    return [
        *stored,
        {
            "code": FlagCode.REPEAT_ANSWERED,
            "detail": earlier.registration_number or "",
        },
    ]


def flags_on_arrival(
    *,
    name: str,
    address: str = "",
    phone: str = "",
    email: str = "",
    text: str = "",
    check_repeat: bool = True,
) -> list[dict]:
    """The flags of an appeal arriving now. The citizen's filing, the busiest write,
    passes check_repeat=False and asks the database nothing (the word list is cached):
    its repeat check runs when the clerk registers it (appeals.intake.registration)."""
    return compute_flags(
        name=name,
        address=address,
        phone=phone,
        email=email,
        text=text,
        words=word_matcher(),
        answered_earlier=(
            answered_repeat_of(name=name, phone=phone, email=email, text=text)
            if check_repeat
            else None
        ),
    )


# The word list is cached per process. Saving or deleting a FlagWord forgets it here
# and, once committed, replaces an edition mark in the Django cache (Redis, shared by
# every process); other processes look at the mark at most every CHECK_EVERY seconds,
# so a filing asks Redis nothing most of the time.
WORDS_EDITION_KEY = "appeals:intake:flag-words-edition"
CHECK_EVERY = 30.0  # seconds
# Where the cache is not shared (local memory) or is down, the list is read again
# after MAX_AGE seconds whatever the mark says.
MAX_AGE = 300.0


@dataclass
class _Loaded:
    edition: str | None
    loaded_at: float
    checked_at: float
    matcher: WordMatcher


_loaded: _Loaded | None = None


def word_matcher() -> WordMatcher:
    """The active FlagWord stems of every language, compiled once per edition."""
    global _loaded
    loaded = _loaded
    now = time.monotonic()
    if loaded is not None and now - loaded.checked_at < CHECK_EVERY:
        return loaded.matcher
    edition = cache.get(WORDS_EDITION_KEY)
    if (
        loaded is not None
        and edition == loaded.edition
        and now - loaded.loaded_at < MAX_AGE
    ):
        loaded.checked_at = now
        return loaded.matcher
    matcher = WordMatcher(
        FlagWord.objects.filter(is_active=True).values_list("stem", flat=True)
    )
    _loaded = _Loaded(edition=edition, loaded_at=now, checked_at=now, matcher=matcher)
    return matcher


def forget_words() -> None:
    """Forget this process's word list and, once committed, tell the other processes."""
    global _loaded
    _loaded = None
    transaction.on_commit(
        lambda: cache.set(WORDS_EDITION_KEY, uuid.uuid4().hex, timeout=None)
    )


# Cache invalidation only, not a business rule: hence a signal (connected by
# appeals.apps).
@receiver(post_save, sender=FlagWord, dispatch_uid="flag-word-saved")
@receiver(post_delete, sender=FlagWord, dispatch_uid="flag-word-deleted")
def _flag_word_changed(sender, **kwargs) -> None:
    forget_words()
