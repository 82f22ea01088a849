"""Formatting integer minor-unit amounts for people, with Babel's currency data."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision

DEFAULT_LOCALE = "en_US"


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


def parse_money(text: str, currency: str) -> int:
    """A typed amount such as `120`, `120.5` or `1,200.00` -> minor units.

    Raises ValueError with a message fit for a person when the text is not an amount
    of this currency (too many decimals, negative, not a number).
    """
    cleaned = text.strip().replace(",", "").lstrip("$€£¥")
    try:
        value = Decimal(cleaned)
    except ArithmeticError as exc:
        raise ValueError("Enter an amount such as 120.00") from exc
    if not value.is_finite():
        raise ValueError("Enter an amount such as 120.00")
    exponent = minor_unit_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise ValueError(f"{currency.upper()} amounts have at most {exponent} decimal places")
    if minor <= 0:
        raise ValueError("The amount must be more than zero")
    return int(minor)
