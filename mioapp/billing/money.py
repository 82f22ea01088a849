"""Formatting and parsing integer minor-unit amounts for people, with Babel's currency data."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    parse_decimal,
)

DEFAULT_LOCALE = "en_US"
# Stripe's largest charge is 99,999,999 in minor units (USD 999,999.99).
MAX_AMOUNT = 99_999_999


def minor_unit_exponent(currency: str) -> int:
    """Decimal places of the currency: 2 for USD, 0 for JPY, 3 for BHD."""
    return get_currency_precision(currency.upper())


def to_decimal(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-minor_unit_exponent(currency))


def format_money(amount: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """`12345, "usd"` -> `$123.45`; `5000, "jpy"` -> `¥5,000`."""
    return format_currency(
        to_decimal(amount, currency), currency.upper(), locale=locale, currency_digits=True
    )


def parse_money(text: str, currency: str, locale: str = DEFAULT_LOCALE) -> int:
    """A typed amount such as `120`, `120.5` or `1,200.00` -> minor units.

    Parsing is strict for the locale, so `12,50` is refused in en_US rather than read as
    1,250. Raises ValueError with a message fit for a person.
    """
    cleaned = text.strip().lstrip("$€£¥").strip()
    if any(ch.isalpha() for ch in cleaned):  # no "1e3", "NaN" or "Infinity"
        raise ValueError("Enter an amount such as 120.00")
    try:
        value = parse_decimal(cleaned, locale=locale, strict=True)
    except NumberFormatError as exc:
        raise ValueError("Enter an amount such as 120.00") from exc
    exponent = minor_unit_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency.upper()} amounts have at most {exponent} decimal places")
    if minor <= 0:
        raise ValueError("The amount must be more than zero")
    if minor > MAX_AMOUNT:
        raise ValueError(f"The amount can be at most {format_money(MAX_AMOUNT, currency, locale)}")
    return int(minor)
