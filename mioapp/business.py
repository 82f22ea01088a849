"""The business profile: how customers reach the business (name, contact, reply-to) and the
time zone and locale its dates and amounts are shown in.

Saved in Settings as one `Business` row; without one, the settings' defaults. Every
formatted date needs it, so each process keeps it cached: refreshed when a save commits in
that process, and read again after `PROFILE_TTL` (other web workers and job consumers pick
up a save within that time). Formatting and rendering take a `BusinessProfile` as an
argument; only the edges (page handlers, the outbox, the mail sender) look it up, so a
business can later be passed per request instead of being the one in the database.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from email.errors import HeaderParseError
from email.headerregistry import Address

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mioapp.db import database
from mioapp.formatting import parse_locale, parse_time_zone
from mioapp.models import AuditEntry, Business, utcnow
from mioapp.settings import get_settings

# Seconds a process trusts its cached profile before reading it again.
PROFILE_TTL = 10.0
MAX_NAME = 120
MAX_EMAIL = 254
MAX_PHONE = 40
_PHONE = re.compile(r"\+?[0-9 ()./-]+")
_MIN_PHONE_DIGITS = 5
# Where a save waits in its session until the transaction commits (see the listeners below).
_SAVED = "mioapp.business.saved"
# Each profile field and the Business column that stores it.
_COLUMNS = {
    "name": "name",
    "email": "contact_email",
    "phone": "contact_phone",
    "reply_to": "reply_to",
    "time_zone": "time_zone",
    "locale": "locale",
}


@dataclass(frozen=True)
class BusinessProfile:
    """Who the business is to its customers, and where. Validated: `validate_profile`."""

    name: str
    email: str
    phone: str
    reply_to: str
    time_zone: str
    locale: str

    @classmethod
    def from_row(cls, row: Business) -> BusinessProfile:
        return cls(**{field: getattr(row, column) for field, column in _COLUMNS.items()})

    @property
    def reply_address(self) -> str:
        """Where customers' replies go: the reply-to address, else the contact email."""
        return self.reply_to or self.email


FIELDS = tuple(f.name for f in fields(BusinessProfile))


class ProfileError(ValueError):
    """Values that can't be saved; `errors` maps each wrong field to what to fix."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


def _email(text: str, *, required: bool) -> str:
    value = text.strip()
    if not value:
        if required:
            raise ValueError("Enter an email address customers can write to")
        return ""
    if len(value) > MAX_EMAIL:
        raise ValueError(f"Keep the address under {MAX_EMAIL} characters")
    try:
        # The address goes into a Reply-To header: one plain address, nothing else.
        address = Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise ValueError("Enter an email address such as hello@example.com") from exc
    if not address.username or "." not in address.domain or any(ch.isspace() for ch in value):
        raise ValueError("Enter an email address such as hello@example.com")
    return address.addr_spec


def _phone(text: str) -> str:
    value = " ".join(text.split())
    if not value:
        return ""
    digits = sum(ch.isdigit() for ch in value)
    if len(value) > MAX_PHONE or not _PHONE.fullmatch(value) or digits < _MIN_PHONE_DIGITS:
        raise ValueError("Enter a phone number such as +1 808 555 0134")
    return value


def _name(text: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise ValueError("Enter the name customers know the business by")
    if len(value) > MAX_NAME:
        raise ValueError(f"Keep the name under {MAX_NAME} characters")
    return value


_CHECKS = {
    "name": _name,
    "email": lambda text: _email(text, required=True),
    "phone": _phone,
    "reply_to": lambda text: _email(text, required=False),
    "time_zone": parse_time_zone,
    "locale": parse_locale,
}


def validate_profile(values: Mapping[str, object]) -> BusinessProfile:
    """The profile from typed values, tidied (`europe/lisbon` -> `Europe/Lisbon`); raises
    ProfileError naming every field that is wrong, so all can be fixed at once."""
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, check in _CHECKS.items():
        try:
            cleaned[name] = check(str(values.get(name) or ""))
        except ValueError as exc:
            errors[name] = str(exc)
    if errors:
        raise ProfileError(errors)
    return BusinessProfile(**cleaned)


def default_profile() -> BusinessProfile:
    """The profile from the environment (BUSINESS_NAME, BUSINESS_TIME_ZONE, ...)."""
    s = get_settings()
    return validate_profile(
        {
            "name": s.business_name,
            "email": s.business_email,
            "phone": s.business_phone,
            "reply_to": s.business_reply_to,
            "time_zone": s.business_time_zone,
            "locale": s.business_locale,
        }
    )


def _row(session: Session) -> Business | None:
    return session.exec(select(Business).order_by(col(Business.id)).limit(1)).first()


def load_profile(session: Session) -> BusinessProfile:
    """The saved profile, read from the database now (see `current_profile` for the cache)."""
    row = _row(session)
    if row is None:
        return default_profile()
    return BusinessProfile.from_row(row)


def save_profile(
    session: Session, values: Mapping[str, object], *, user_id: int | None
) -> BusinessProfile:
    """Validate and store the profile (ProfileError if a value is wrong); flushes only. Once
    the caller's transaction commits, this process's cache holds the new profile."""
    profile = validate_profile(values)
    row = _row(session) or Business(
        name=profile.name,
        contact_email=profile.email,
        time_zone=profile.time_zone,
        locale=profile.locale,
    )
    for field, column in _COLUMNS.items():
        setattr(row, column, getattr(profile, field))
    row.updated_at, row.updated_by_user_id = utcnow(), user_id
    session.add(row)
    session.add(
        AuditEntry(
            actor_user_id=user_id,
            action="business.profile_saved",
            subject="business profile",
            detail=f"{profile.name}; {profile.time_zone}; {profile.locale}",
        )
    )
    session.flush()
    session.info[_SAVED] = profile
    return profile


# (profile, time.monotonic() after which it is read again); replaced whole, never mutated,
# so threads reading it need no lock.
_cached: tuple[BusinessProfile, float] | None = None


def _fresh() -> BusinessProfile | None:
    cached = _cached
    if cached is not None and time.monotonic() < cached[1]:
        return cached[0]
    return None


def _remember(profile: BusinessProfile) -> None:
    global _cached
    _cached = (profile, time.monotonic() + PROFILE_TTL)


def forget_cached_profile() -> None:
    """Make the next lookup read the database (tests, and anything that wrote the row
    behind this module's back)."""
    global _cached
    _cached = None


def current_profile(session: Session) -> BusinessProfile:
    """The business's profile: this process's cached copy while fresh, else read with
    `session` (at most once per PROFILE_TTL). A transaction that saved the profile sees its
    own save, which reaches the cache only if it commits."""
    pending = session.info.get(_SAVED)
    if pending is not None:
        return pending
    profile = _fresh()
    if profile is None:
        profile = load_profile(session)
        _remember(profile)
    return profile


async def current_profile_async() -> BusinessProfile:
    """`current_profile` for async code: the cached copy, or a read on a worker thread."""
    return _fresh() or await database().run(current_profile)


@sa.event.listens_for(Session, "after_commit")
def _publish_saved_profile(session: Session) -> None:
    saved = session.info.pop(_SAVED, None)
    if saved is not None:
        _remember(saved)


@sa.event.listens_for(Session, "after_transaction_end")
def _drop_unsaved_profile(session: Session, transaction) -> None:
    """A save rolled back with its transaction never reaches the cache."""
    if transaction.parent is None:
        session.info.pop(_SAVED, None)
