"""Minor-unit amounts shown to people and typed back in, for 0-, 2- and 3-decimal currencies."""

from __future__ import annotations

import pytest
from babel.numbers import get_currency_symbol, get_decimal_symbol

from mioapp.billing.money import amount_example, format_money, minor_unit_exponent, parse_money


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
        ("12 USD", "usd", 1_200),
        ("usd 12.50", "usd", 1_250),
        ("$ 12", "usd", 1_200),
        ("12$", "usd", 1_200),
        ("JPY 5000", "jpy", 5_000),
        ("5000.0", "jpy", 5_000),
        ("KWD1.234", "kwd", 1_234),
        ("1,234.567", "kwd", 1_234_567),
        ("0.001", "kwd", 1),
        ("BHD 0.125", "bhd", 125),
        (".5", "usd", 50),
    ],
)
def test_parse_money(text: str, currency: str, minor: int) -> None:
    assert parse_money(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("1.234,56\xa0€", "eur", "de_DE", 123_456),
        ("1.234,56 €", "eur", "de_DE", 123_456),
        ("12,50", "eur", "de_DE", 1_250),
        ("EUR 12,5", "eur", "de_DE", 1_250),
        ("1 234,56 €", "eur", "fr_FR", 123_456),  # a typed space for the narrow no-break one
        ("1\u202f234,56", "eur", "fr_FR", 123_456),
        ("1 234,5", "kwd", "fr_FR", 1_234_500),
        ("1.234", "jpy", "de_DE", 1_234),
        ("￥5,000", "jpy", "ja_JP", 5_000),
        ("\u221212,50 kr", "sek", "sv_SE", None),
        ("12,50 kr", "sek", "sv_SE", 1_250),
        ("1,234.500 د.ك.", "kwd", "ar_KW", 1_234_500),
    ],
)
def test_parse_money_follows_the_locale(
    text: str, currency: str, locale: str, minor: int | None
) -> None:
    if minor is None:
        with pytest.raises(ValueError, match="more than zero"):
            parse_money(text, currency, locale)
    else:
        assert parse_money(text, currency, locale) == minor


LOCALES = [
    "en_US",
    "en_GB",
    "en_IN",
    "de_DE",
    "de_CH",
    "fr_FR",
    "es_ES",
    "nl_NL",
    "sv_SE",
    "ja_JP",
    "ar_EG",
    "ar_KW",
    "fa_IR",
]
CURRENCIES = ["usd", "eur", "gbp", "jpy", "krw", "kwd", "bhd", "sek", "chf", "inr"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("currency", CURRENCIES)
def test_every_formatted_amount_parses_back_in_its_locale(currency: str, locale: str) -> None:
    """Babel's own output for each locale: symbol placement, separators, bidi marks."""
    for amount in (1, 7, 1_234, 123_456, 99_999_999):
        shown = format_money(amount, currency, locale)
        assert parse_money(shown, currency, locale) == amount, shown


@pytest.mark.parametrize(
    ("currency", "locale", "example"),
    [
        ("usd", "en_US", "120.00"),
        ("jpy", "en_US", "120"),
        ("krw", "en_US", "120"),
        ("kwd", "en_US", "120.000"),
        ("bhd", "en_US", "120.000"),
        ("eur", "de_DE", "120,00"),
        ("kwd", "fr_FR", "120,000"),
    ],
)
def test_the_example_amount_suits_the_currency_and_locale(
    currency: str, locale: str, example: str
) -> None:
    assert amount_example(currency, locale) == example
    with pytest.raises(ValueError) as excinfo:
        parse_money("abc", currency, locale)
    assert str(excinfo.value) == f"Enter an amount such as {example}"


@pytest.mark.parametrize("currency", CURRENCIES)
@pytest.mark.parametrize("locale", LOCALES)
def test_only_the_currencys_own_symbol_is_accepted(currency: str, locale: str) -> None:
    own = get_currency_symbol(currency.upper(), locale)
    decimal = get_decimal_symbol(locale)
    number = f"100{decimal}{'0' * minor_unit_exponent(currency)}".rstrip(decimal)
    assert parse_money(f"{own}{number}", currency, locale) == 100 * 10 ** minor_unit_exponent(
        currency
    )
    for other in CURRENCIES:
        symbol = get_currency_symbol(other.upper(), locale)
        if other == currency or symbol == own:
            continue
        for text in (f"{symbol}{number}", f"{number} {symbol}", f"{other.upper()} {number}"):
            with pytest.raises(ValueError, match="Enter an amount such as"):
                parse_money(text, currency, locale)


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
        ("100.5", "jpy", "JPY amounts have no decimal places"),
        ("1.2345", "bhd", "BHD amounts have at most 3 decimal places"),
        ("0.0001", "kwd", "KWD amounts have at most 3 decimal places"),
        ("0", "usd", "The amount must be more than zero"),
        ("0.00", "usd", "The amount must be more than zero"),
        ("-5", "usd", "The amount must be more than zero"),
        ("$-5.00", "usd", "The amount must be more than zero"),
        ("", "usd", "Enter an amount such as 120.00"),
        ("abc", "usd", "Enter an amount such as 120.00"),
        ("12.34.56", "usd", "Enter an amount such as 120.00"),
        ("12 eur", "usd", "Enter an amount such as 120.00"),
        ("¥100", "usd", "Enter an amount such as 120.00"),
        ("100¥", "usd", "Enter an amount such as 120.00"),
        ("€100", "usd", "Enter an amount such as 120.00"),
        ("US$100", "usd", "Enter an amount such as 120.00"),
        ("$100", "jpy", "Enter an amount such as 120"),
        ("$$100", "usd", "Enter an amount such as 120.00"),
        ("$100 USD", "usd", "Enter an amount such as 120.00"),
        ("--5", "usd", "Enter an amount such as 120.00"),
        ("\uff11\uff12\uff10", "usd", "Enter an amount such as 120.00"),  # full-width digits
        ("١٢٠", "usd", "Enter an amount such as 120.00"),  # Arabic-Indic digits
        ("۱۲۰", "usd", "Enter an amount such as 120.00"),  # Persian digits
        ("१२०", "usd", "Enter an amount such as 120.00"),  # Devanagari digits
        ("12\u066b50", "usd", "Enter an amount such as 120.00"),  # Arabic decimal separator
        ("1_000", "usd", "Enter an amount such as 120.00"),
        ("1 000", "usd", "Enter an amount such as 120.00"),
        ("1,,000", "usd", "Enter an amount such as 120.00"),
        ("abc", "kwd", "Enter an amount such as 120.000"),
        ("¥", "jpy", "Enter an amount such as 120"),
        ("$.", "usd", "Enter an amount such as 120.00"),
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
