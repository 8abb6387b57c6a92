"""The paragraph that opens an intake report, in the chancellery's published style,
and the number formats of each report language."""

from decimal import Decimal

from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from appeals.models import Channel
from portal.numbers import one_decimal
from portal.periods import period_title
from reports.report import Block

NBSP = "\u00a0"


def format_count(count: int, language: str) -> str:
    """1145 as "1 145" (no-break space) in ky and ru, "1,145" in en."""
    grouped = f"{count:,}"
    return grouped.replace(",", NBSP) if language in ("ky", "ru") else grouped


def format_share(share: Decimal, language: str) -> str:
    """A share with one decimal: "16,5 %" (decimal comma, no-break space before the
    sign) in ky and ru, as the chancellery and Russian typography write it; "16.5%"
    in en."""
    number = f"{one_decimal(share)}"
    if language in ("ky", "ru"):
        return f"{number.replace('.', ',')}{NBSP}%"
    return f"{number}%"


def narrative(*, current: Block, previous: Block, language: str) -> str:
    """The written total beside last year's, each channel's count and share beside
    last year's, then the oral appeals: one paragraph in `language`."""
    with translation.override(language):
        figures = {
            "period": period_title(current.period, language),
            "previous_period": period_title(previous.period, language),
        }
        sentences = [
            _(
                "Written appeals received, %(period)s: %(total)s (for comparison, "
                "%(previous_period)s: %(previous_total)s)."
            )
            % {
                **figures,
                "total": format_count(current.written_total, language),
                "previous_total": format_count(previous.written_total, language),
            }
        ]
        earlier = {row.code: row for row in previous.by_channel}
        for row in current.by_channel:
            before = earlier[row.code]
            # The channel's label reads as where the appeal came from: "из
            # Администрации Президента", "Президенттин Аппаратынан".
            sentences.append(
                capfirst(
                    _(
                        "%(channel)s — %(count)s (%(share)s); %(previous_period)s: "
                        "%(previous_count)s (%(previous_share)s)."
                    )
                    % {
                        **figures,
                        "channel": Channel(row.code).label,
                        "count": format_count(row.count, language),
                        "share": format_share(row.share, language),
                        "previous_count": format_count(before.count, language),
                        "previous_share": format_share(before.share, language),
                    }
                )
            )
        sentences.append(
            _(
                "Oral appeals heard at personal receptions, %(period)s: %(total)s "
                "(for comparison, %(previous_period)s: %(previous_total)s)."
            )
            % {
                **figures,
                "total": format_count(current.oral_total, language),
                "previous_total": format_count(previous.oral_total, language),
            }
        )
        return " ".join(sentences)
