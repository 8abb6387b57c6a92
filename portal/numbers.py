"""Numbers as the published statistics write them: one decimal, rounded half up, and
written the language's way (the reports and the staff's figures alike)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats, translation

ONE_DECIMAL = Decimal("0.1")


def one_decimal(value) -> Decimal:
    """`value` with one decimal, half up (12.25 -> 12.3), as the chancellery rounds."""
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def share(count: int, total: int, *, empty: Decimal | None = Decimal("0.0")):
    """Per cent of the total, one decimal, half up (1 of 8 = 12.5); `empty` when the
    total is nought: 0.0 in a published table, None where a page shows a dash."""
    if not total:
        return empty
    return (Decimal(count) * 100 / Decimal(total)).quantize(
        ONE_DECIMAL, rounding=ROUND_HALF_UP
    )


def number(value, language: str, decimals: int | None = None) -> str:
    """A number as the language writes it: "16,5" and "1 145" (no-break space) in ky
    and ru, "16.5" and "1,145" in en; grouped like the narrative's figures."""
    if value is None:
        return ""
    with translation.override(language):
        return formats.number_format(
            value, decimal_pos=decimals, use_l10n=True, force_grouping=True
        )


def percent(value, language: str) -> str:
    """A share with its sign as each language prints it: "16,5 %" (ky, ru: a no-break
    space, so the sign never wraps to the next line), "16.5%" (en)."""
    if value is None:
        return ""
    text = number(value, language, 1)
    return f"{text}%" if language == "en" else f"{text}\xa0%"
