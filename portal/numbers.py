"""Numbers as the published statistics write them: one decimal, rounded half up."""

from decimal import ROUND_HALF_UP, Decimal

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
