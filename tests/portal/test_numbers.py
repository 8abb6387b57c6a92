from decimal import Decimal

from portal.numbers import one_decimal, share


def test_share_rounds_half_up_to_one_decimal():
    assert share(1, 8) == Decimal("12.5")
    assert share(1, 3) == Decimal("33.3")
    assert share(2, 3) == Decimal("66.7")


def test_share_of_nothing_is_nought_in_a_table_and_a_dash_where_asked():
    assert share(0, 0) == Decimal("0.0")
    assert share(0, 0, empty=None) is None


def test_one_decimal_rounds_half_up_not_to_even():
    assert one_decimal(12.25) == Decimal("12.3")
    assert one_decimal(Decimal("0.05")) == Decimal("0.1")
