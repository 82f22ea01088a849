"""Formatting and parsing integer minor-unit amounts for people, with Babel's currency data."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
    parse_decimal,
)

DEFAULT_LOCALE = "en_US"
# Stripe's largest charge is 99,999,999 in minor units (USD 999,999.99).
MAX_AMOUNT = 99_999_999

# Direction marks Babel puts around numbers and symbols in right-to-left locales; invisible,
# so a pasted amount must not fail on them.
_BIDI_MARKS = re.compile("[\u200e\u200f\u061c]")
_SPACES = re.compile(r"\s+")
# Far longer than any amount anyone types; keeps the pattern's work small.
_MAX_TEXT = 40


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


def amount_example(currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """What to type, for this currency's decimals and the locale: 120.00, 120, 120,000."""
    exponent = minor_unit_exponent(currency)
    return f"120{get_decimal_symbol(locale)}{'0' * exponent}" if exponent else "120"


@lru_cache(maxsize=64)
def _amount_pattern(currency: str, locale: str) -> re.Pattern[str]:
    """An optional sign, the currency's own symbol or ISO code before or after (or neither),
    and a number of ASCII digits with the locale's separators."""
    code = currency.upper()
    marks = sorted({code, _BIDI_MARKS.sub("", get_currency_symbol(code, locale))}, key=len)
    mark = "|".join(re.escape(m) for m in reversed(marks))
    minus = re.escape("-" + _BIDI_MARKS.sub("", get_minus_sign_symbol(locale)))
    separators = re.escape(get_decimal_symbol(locale) + get_group_symbol(locale))
    return re.compile(
        rf"(?P<sign>[{minus}])?\s*(?:(?P<before>{mark})\s*(?P<sign_after>[{minus}])?)?\s*"
        rf"(?P<number>[0-9][0-9{separators}\s]*|[{separators}][0-9][0-9{separators}\s]*)"
        rf"(?P<after>{mark})?",
        re.IGNORECASE,
    )


def parse_money(text: str, currency: str, locale: str = DEFAULT_LOCALE) -> int:
    """A typed amount such as `120`, `$120.5`, `1,200.00 USD` -> minor units.

    Only this currency's own symbol (as the locale writes it) or its ISO code is allowed,
    so `¥100` is never read as 100 dollars; only ASCII digits, so no full-width or
    Arabic-Indic look-alikes. Parsing is strict for the locale, so `12,50` is refused in
    en_US rather than read as 1,250. Raises ValueError with a message fit for a person.
    """
    invalid = ValueError(f"Enter an amount such as {amount_example(currency, locale)}")
    cleaned = _BIDI_MARKS.sub("", text).strip()
    if len(cleaned) > _MAX_TEXT:
        raise invalid
    match = _amount_pattern(currency, locale).fullmatch(cleaned)
    if match is None or (match["before"] and match["after"]):
        raise invalid
    if match["sign"] and match["sign_after"]:
        raise invalid
    number = match["number"].strip()
    group = get_group_symbol(locale)
    if group.isspace():
        # People type an ordinary space for the locale's (narrow) no-break one.
        number = _SPACES.sub(group, number)
    elif any(ch.isspace() for ch in number):
        raise invalid
    try:
        value = parse_decimal(number, locale=locale, strict=True)
    except NumberFormatError as exc:
        raise invalid from exc
    exponent = minor_unit_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        if exponent == 0:
            raise ValueError(f"{currency.upper()} amounts have no decimal places")
        raise ValueError(f"{currency.upper()} amounts have at most {exponent} decimal places")
    if match["sign"] or match["sign_after"] or minor <= 0:
        raise ValueError("The amount must be more than zero")
    if minor > MAX_AMOUNT:
        raise ValueError(f"The amount can be at most {format_money(MAX_AMOUNT, currency, locale)}")
    return int(minor)
