"""Minor-unit amounts shown to people and typed back in, for 0-, 2- and 3-decimal currencies."""

from __future__ import annotations

import pytest

from mioapp.billing.money import format_money, minor_unit_exponent, parse_money


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("usd", 2), ("EUR", 2), ("jpy", 0), ("krw", 0), ("bhd", 3), ("KWD", 3)],
)
def test_minor_unit_exponent(currency: str, exponent: int) -> None:
    assert minor_unit_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (12_345, "usd", "$123.45"),
        (5, "usd", "$0.05"),
        (0, "usd", "$0.00"),
        (123_456_789, "USD", "$1,234,567.89"),
        (12_345, "eur", "€123.45"),
        (5_000, "jpy", "¥5,000"),
        (1, "jpy", "¥1"),
        (1_234, "bhd", "BHD1.234"),
        (1, "bhd", "BHD0.001"),
    ],
)
def test_format_money(amount: int, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown


def test_format_money_follows_the_locale() -> None:
    assert format_money(12_345, "eur", locale="de_DE") == "123,45\xa0€"


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("120", "usd", 12_000),
        ("120.5", "usd", 12_050),
        ("120.05", "usd", 12_005),
        ("1,200.00", "usd", 120_000),
        ("$75", "usd", 7_500),
        ("  7 ", "usd", 700),
        ("0.01", "usd", 1),
        ("€19.99", "eur", 1_999),
        ("5000", "jpy", 5_000),
        ("¥5,000", "jpy", 5_000),
        ("1.234", "bhd", 1_234),
        ("0.5", "bhd", 500),
        ("12", "BHD", 12_000),
        ("999,999.99", "usd", 99_999_999),
    ],
)
def test_parse_money(text: str, currency: str, minor: int) -> None:
    assert parse_money(text, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"), [(12_345, "usd"), (1, "usd"), (999_999, "eur"), (5_000, "jpy")]
)
def test_what_is_shown_parses_back_to_the_same_amount(amount: int, currency: str) -> None:
    assert parse_money(format_money(amount, currency), currency) == amount


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("1.001", "usd", "USD amounts have at most 2 decimal places"),
        ("0.005", "usd", "USD amounts have at most 2 decimal places"),
        ("100.5", "jpy", "JPY amounts have at most 0 decimal places"),
        ("1.2345", "bhd", "BHD amounts have at most 3 decimal places"),
        ("0", "usd", "The amount must be more than zero"),
        ("0.00", "usd", "The amount must be more than zero"),
        ("-5", "usd", "The amount must be more than zero"),
        ("$-5.00", "usd", "The amount must be more than zero"),
        ("", "usd", "Enter an amount such as 120.00"),
        ("abc", "usd", "Enter an amount such as 120.00"),
        ("12.34.56", "usd", "Enter an amount such as 120.00"),
        ("12 usd", "usd", "Enter an amount such as 120.00"),
        ("NaN", "usd", "Enter an amount such as 120.00"),
        ("sNaN", "usd", "Enter an amount such as 120.00"),
        ("Infinity", "usd", "Enter an amount such as 120.00"),
        ("-inf", "usd", "Enter an amount such as 120.00"),
        ("1e3", "usd", "Enter an amount such as 120.00"),
        ("12,50", "eur", "Enter an amount such as 120.00"),
        ("1000000", "usd", "The amount can be at most $999,999.99"),
    ],
)
def test_parse_money_rejects_with_a_message_for_people(
    text: str, currency: str, message: str
) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_money(text, currency)
    assert str(excinfo.value) == message
