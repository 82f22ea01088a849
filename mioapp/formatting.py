"""How dates, card brands and payment methods read to people, on every page and in emails.

Money is formatted by `mioapp.billing.money`; this module holds everything else that is
shown the same way in the dashboard, on the pay page and in emails. Dates are shown in the
business's time zone and locale (`BusinessProfile`), in one format: `Jun 14, 2025 · 9:30 AM`
(`14.06.2025 · 18:30` in de_DE), with the zone named where a reader may be elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time, get_timezone_name

if TYPE_CHECKING:
    from mioapp.business import BusinessProfile

BRAND_NAMES = {
    "amex": "American Express",
    "diners": "Diners Club",
    "discover": "Discover",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}


def brand_name(brand: str | None) -> str:
    """Stripe's brand code as people write it: `amex` -> `American Express`."""
    if not brand:
        return "Card"
    return BRAND_NAMES.get(brand.lower(), brand.title())


def card_label(brand: str | None, last4: str | None) -> str:
    """`Visa •••• 4242`; just the brand when the last four digits are unknown."""
    return f"{brand_name(brand)} •••• {last4}" if last4 else brand_name(brand)


def local_time(value: datetime, profile: BusinessProfile) -> datetime:
    """`value` on the business's clock; a naive value is taken as UTC (how it is stored)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(profile.time_zone))


def when(value: datetime, profile: BusinessProfile) -> str:
    """A date and time: `Jun 14, 2025 · 9:30 AM` in en_US, `14.06.2025 · 18:30` in de_DE."""
    local = local_time(value, profile)
    return (
        f"{format_date(local, 'medium', locale=profile.locale)} · "
        f"{format_time(local, 'short', locale=profile.locale)}"
    )


def when_in_zone(value: datetime, profile: BusinessProfile) -> str:
    """`when` with the zone named, for readers who may be elsewhere (emails, receipts):
    `Jun 14, 2025 · 9:30 AM PDT`."""
    return f"{when(value, profile)} {zone_name(value, profile)}"


def zone_name(value: datetime, profile: BusinessProfile) -> str:
    """The zone at `value` as the locale abbreviates it (PDT, MESZ, UTC), or its long name
    where the locale has no abbreviation but an offset (`Central European Summer Time`
    rather than `+0200`): an offset does not tell a reader which clock is meant."""
    local = local_time(value, profile)
    short = get_timezone_name(local, "short", locale=profile.locale)
    if any(ch.isdigit() for ch in short):
        return get_timezone_name(local, "long", locale=profile.locale)
    return short


def day(value: datetime, profile: BusinessProfile) -> str:
    """A date alone: `Jun 14, 2025`, `14.06.2025`."""
    return format_date(local_time(value, profile), "medium", locale=profile.locale)


def month(value: datetime, profile: BusinessProfile) -> str:
    """A month: `June 2025`, `Juni 2025`."""
    return format_skeleton("yMMMM", local_time(value, profile), locale=profile.locale)


# In the zone database but not places: the host's own setting and placeholders.
_NOT_ZONES = {"localtime", "Factory", "posixrules"}


@lru_cache(maxsize=1)
def time_zones() -> dict[str, str]:
    """Every IANA zone name the system knows, by its case-folded spelling."""
    return {name.casefold(): name for name in available_timezones() - _NOT_ZONES}


def parse_time_zone(text: str) -> str:
    """An IANA time zone as typed (`europe/lisbon`) -> its name (`Europe/Lisbon`).

    Only names in the zone database are accepted (never a file path); ValueError with a
    message for people otherwise.
    """
    name = time_zones().get(text.strip().casefold())
    if name is None:
        raise ValueError("Choose a time zone from the list, such as America/New_York")
    return name


def parse_locale(text: str) -> str:
    """A locale as typed (`de-DE`, `pt_br`) -> Babel's identifier (`de_DE`, `pt_BR`)."""
    cleaned = text.strip().replace("-", "_")
    try:
        if not cleaned or len(cleaned) > 20:
            raise ValueError(cleaned)
        return str(Locale.parse(cleaned))
    except (ValueError, TypeError, UnknownLocaleError) as exc:
        raise ValueError("Choose a locale from the list, such as en_US or de_DE") from exc
