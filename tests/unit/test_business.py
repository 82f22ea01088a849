"""The business profile: validation, where it is read from, the per-process cache, and every
date and amount shown in its time zone and locale (emails included, with Reply-To)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from devtools.mailserver import LocalMailServer
from mioapp import business
from mioapp.billing.money import amount_input_text, format_money, parse_money
from mioapp.business import (
    BusinessProfile,
    ProfileError,
    current_profile,
    default_profile,
    load_profile,
    save_profile,
    validate_profile,
)
from mioapp.formatting import day, month, when, when_in_zone, zone_name
from mioapp.models import AuditEntry, Business, EmailMessage, PaymentLinkStatus
from mioapp.notifications.outbox import queue_email
from mioapp.notifications.render import render_email
from mioapp.notifications.sender import build_mime, send_due
from mioapp.payments import links
from mioapp.settings import get_settings
from tests.unit.factories import make_booking, make_customer

REEF = {
    "name": "  Reef   Runners ",
    "email": "hello@reef-runners.test",
    "phone": "+49 30 1234 5678",
    "reply_to": "desk@reef-runners.test",
    "time_zone": "europe/berlin",
    "locale": "de-DE",
}
BERLIN = BusinessProfile(
    name="Reef Runners",
    email="hello@reef-runners.test",
    phone="+49 30 1234 5678",
    reply_to="desk@reef-runners.test",
    time_zone="Europe/Berlin",
    locale="de_DE",
)
NEW_YORK = replace(BERLIN, time_zone="America/New_York", locale="en_US")


@pytest.fixture(autouse=True)
def no_cached_profile() -> Iterator[None]:
    """Each test starts and ends with an empty cache: the tests after it expect defaults."""
    business.forget_cached_profile()
    yield
    business.forget_cached_profile()


# Validation ------------------------------------------------------------------------------


def test_typed_values_are_tidied_into_a_profile() -> None:
    assert validate_profile(REEF) == BERLIN


def test_every_wrong_field_is_named_at_once_with_what_to_fix() -> None:
    with pytest.raises(ProfileError) as refused:
        validate_profile(
            {
                "name": " ",
                "email": "hello at reef",
                "phone": "call us",
                "reply_to": "desk@reef.test\r\nBcc: everyone@example.test",
                "time_zone": "../../etc/passwd",
                "locale": "klingon",
            }
        )
    errors = refused.value.errors
    assert set(errors) == set(business.FIELDS)
    assert errors["email"] == "Enter an email address such as hello@example.com"
    assert errors["reply_to"] == "Enter an email address such as hello@example.com"
    assert errors["time_zone"].startswith("Choose a time zone from the list")
    assert errors["locale"].startswith("Choose a locale from the list")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", ""),
        ("email", "no-domain@localhost"),
        ("phone", "12"),
        ("phone", "+1 808 555 0134 ext. 7 or ask for Bob"),
        ("time_zone", "America/New York"),
        ("time_zone", "localtime"),
        ("locale", "de_XX"),
        ("name", "x" * 121),
    ],
)
def test_one_bad_value_is_refused(field: str, value: str) -> None:
    with pytest.raises(ProfileError) as refused:
        validate_profile({**REEF, field: value})
    assert list(refused.value.errors) == [field]


def test_optional_fields_may_be_empty_and_replies_then_go_to_the_contact_email() -> None:
    profile = validate_profile({**REEF, "phone": "", "reply_to": ""})
    assert (profile.phone, profile.reply_to) == ("", "")
    assert profile.reply_address == "hello@reef-runners.test"
    assert BERLIN.reply_address == "desk@reef-runners.test"


def test_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUSINESS_NAME", "Reef Runners")
    monkeypatch.setenv("BUSINESS_EMAIL", "hello@reef-runners.test")
    monkeypatch.setenv("BUSINESS_PHONE", "+49 30 1234 5678")
    monkeypatch.setenv("BUSINESS_REPLY_TO", "desk@reef-runners.test")
    monkeypatch.setenv("BUSINESS_TIME_ZONE", "Europe/Berlin")
    monkeypatch.setenv("BUSINESS_LOCALE", "de_DE")
    get_settings.cache_clear()
    try:
        assert default_profile() == BERLIN
    finally:
        get_settings.cache_clear()


def test_a_wrong_zone_or_locale_in_the_environment_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BUSINESS_TIME_ZONE", "Mars/Olympus_Mons")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="time zone"):
            get_settings()
    finally:
        get_settings.cache_clear()


# Stored in one row -----------------------------------------------------------------------


def _rows(engine: sa.Engine) -> int:
    with Session(engine) as fresh:
        return fresh.exec(select(func.count()).select_from(Business)).one()


def test_without_a_saved_profile_the_defaults_apply(session: Session) -> None:
    assert load_profile(session) == default_profile()


def test_saving_twice_keeps_one_row_and_audits_each_save(
    session: Session, engine: sa.Engine
) -> None:
    save_profile(session, REEF, user_id=None)
    session.commit()
    save_profile(session, {**REEF, "locale": "en_GB"}, user_id=None)
    session.commit()

    assert _rows(engine) == 1
    with Session(engine) as fresh:
        assert load_profile(fresh) == replace(BERLIN, locale="en_GB")
        audits = fresh.exec(
            select(AuditEntry).where(AuditEntry.action == "business.profile_saved")
        ).all()
    assert len(audits) == 2


def test_a_refused_save_changes_nothing(session: Session, engine: sa.Engine) -> None:
    with pytest.raises(ProfileError):
        save_profile(session, {**REEF, "time_zone": "Nowhere"}, user_id=None)
    session.commit()
    assert _rows(engine) == 0


# The per-process cache -------------------------------------------------------------------


def _change_behind_the_cache(engine: sa.Engine, **values) -> None:
    """What another process's save looks like from here: the row changes, this cache does not."""
    with engine.begin() as connection:
        connection.execute(sa.update(Business).values(**values))


def test_a_save_reaches_the_cache_when_it_commits(session: Session, engine: sa.Engine) -> None:
    assert current_profile(session) == default_profile()
    save_profile(session, REEF, user_id=None)
    assert current_profile(session) == BERLIN, "the saving transaction sees its save"
    with Session(engine) as other:
        assert current_profile(other) == default_profile(), "others not before the commit"
    session.commit()
    _change_behind_the_cache(engine, locale="fr_FR")

    assert current_profile(session) == BERLIN, "from the cache, not the database"


def test_a_rolled_back_save_never_reaches_the_cache(session: Session) -> None:
    assert current_profile(session) == default_profile()
    save_profile(session, REEF, user_id=None)
    session.rollback()
    session.commit()  # a later commit of the same session publishes nothing either

    assert current_profile(session) == default_profile()


def test_a_save_survives_a_failed_savepoint_in_its_transaction(
    session: Session, engine: sa.Engine
) -> None:
    """Queueing an email already queued rolls back a savepoint; the save still commits and
    reaches the cache."""
    save_profile(session, REEF, user_id=None)
    customer = make_customer(session)
    for _ in range(2):
        queue_email(
            session,
            dedupe_key="twice",
            kind="receipt",
            to_address=customer.email,
            context=_receipt_context(),
        )
    session.commit()
    _change_behind_the_cache(engine, locale="fr_FR")

    assert current_profile(session) == BERLIN


def test_after_the_ttl_a_save_made_elsewhere_is_read(
    session: Session, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_profile(session, REEF, user_id=None)
    session.commit()
    _change_behind_the_cache(engine, name="Reef Runners Berlin")
    assert current_profile(session).name == "Reef Runners"

    later = business.time.monotonic() + business.PROFILE_TTL + 1
    monkeypatch.setattr(business.time, "monotonic", lambda: later)

    assert current_profile(session).name == "Reef Runners Berlin"


# Dates in the business's zone and locale -------------------------------------------------

MIDSUMMER = datetime(2026, 6, 14, 16, 30, tzinfo=UTC)


def test_one_format_in_each_locale_in_the_business_zone() -> None:
    assert when(MIDSUMMER, NEW_YORK) == "Jun 14, 2026 · 12:30\u202fPM"
    assert when(MIDSUMMER, BERLIN) == "14.06.2026 · 18:30"
    assert when(MIDSUMMER.replace(tzinfo=None), BERLIN) == "14.06.2026 · 18:30", "naive is UTC"
    assert day(MIDSUMMER, BERLIN) == "14.06.2026"
    assert month(MIDSUMMER, BERLIN) == "Juni 2026"
    # Late in the evening in UTC is already tomorrow in Sydney.
    sydney = replace(NEW_YORK, time_zone="Australia/Sydney", locale="en_AU")
    assert day(datetime(2026, 6, 14, 20, 0, tzinfo=UTC), sydney) == "15 Jun 2026"


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        # New York springs forward at 2:00 local (07:00 UTC): 1:59 EST, then 3:00 EDT.
        (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), "Mar 8, 2026 · 1:59\u202fAM EST"),
        (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "Mar 8, 2026 · 3:00\u202fAM EDT"),
        # ...and falls back at 2:00 EDT (06:00 UTC): 1:30 happens twice, the zone tells which.
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "Nov 1, 2026 · 1:30\u202fAM EDT"),
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "Nov 1, 2026 · 1:30\u202fAM EST"),
    ],
)
def test_daylight_saving_boundaries_in_new_york(moment: datetime, shown: str) -> None:
    assert when_in_zone(moment, NEW_YORK) == shown


def test_daylight_saving_boundaries_in_berlin_in_german() -> None:
    # Berlin falls back at 03:00 MESZ (01:00 UTC): 02:30 happens twice.
    assert when_in_zone(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), BERLIN) == (
        "25.10.2026 · 02:30 MESZ"
    )
    assert when_in_zone(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), BERLIN) == (
        "25.10.2026 · 02:30 MEZ"
    )


def test_a_zone_without_an_abbreviation_is_named_not_given_as_an_offset() -> None:
    berlin_in_english = replace(BERLIN, locale="en_US")
    assert zone_name(MIDSUMMER, berlin_in_english) == "Central European Summer Time"
    assert zone_name(MIDSUMMER, replace(NEW_YORK, time_zone="UTC")) == "UTC"


# Amounts in the business's locale -----------------------------------------------------------


def test_german_amounts_are_shown_and_read_with_a_decimal_comma() -> None:
    assert format_money(123_456, "eur", BERLIN.locale) == "1.234,56\xa0€"
    assert parse_money("1.234,56 €", "eur", BERLIN.locale) == 123_456
    assert parse_money("1234,56", "eur", BERLIN.locale) == 123_456
    with pytest.raises(ValueError, match="such as 120,00"):
        parse_money("1,234.56", "eur", BERLIN.locale)
    # What the charge form fills in is read back the same.
    assert amount_input_text(123_456, "eur", BERLIN.locale) == "1234,56"
    assert parse_money(amount_input_text(123_456, "eur", "de_DE"), "eur", "de_DE") == 123_456
    assert amount_input_text(5_000, "jpy", "de_DE") == "5000"


# Emails ----------------------------------------------------------------------------------


def _receipt_context() -> dict:
    return {
        "customer_name": "Ana Lima",
        "bookings": [
            {
                "reference": "BK-100001",
                "tour_name": "Sunset Kayak Tour",
                "starts_at": MIDSUMMER,
                "participants": 2,
                "total": 123_456,
                "paid_before": 0,
                "amount": 123_456,
                "remaining": 0,
                "is_deposit": False,
            }
        ],
        "amount": 123_456,
        "currency": "eur",
        "receipt_number": "MIO-000042",
        "paid_at": datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    }


def test_emails_show_dates_in_the_zone_named_and_amounts_in_the_locale() -> None:
    email = render_email("receipt", _receipt_context(), profile=BERLIN)
    for part in (email.text, email.html):
        assert "Reef Runners" in part
        assert "1.234,56\xa0€" in part
        assert "25.10.2026 · 02:30 MEZ" in part, "paid at, with the zone named"
        assert "14.06.2026 · 18:30 MESZ" in part, "the tour, in summer time"
        assert "UTC" not in part


@pytest.mark.parametrize("kind", ["receipt", "payment_link"])
def test_customer_emails_say_how_to_reach_the_business(kind: str) -> None:
    context = {
        **_receipt_context(),
        "pay_url": "https://pay.example.test/pay/x",
        "expires_at": MIDSUMMER + timedelta(days=7),
    }
    email = render_email(kind, context, profile=BERLIN)
    assert (
        "Questions? Contact Reef Runners: hello@reef-runners.test, +49 30 1234 5678" in email.text
    )
    assert 'href="mailto:hello@reef-runners.test"' in email.html
    assert 'href="tel:+493012345678"' in email.html

    no_phone = render_email(kind, context, profile=replace(BERLIN, phone=""))
    assert "Questions? Contact Reef Runners: hello@reef-runners.test\n" in no_phone.text
    assert "tel:" not in no_phone.html


def _queued(session: Session, kind: str) -> EmailMessage:
    customer = make_customer(session)
    context = {**_receipt_context(), "customer_email": customer.email, "method": "Card on file"}
    message = queue_email(
        session,
        dedupe_key=f"{kind}:1",
        kind=kind,
        to_address=customer.email,
        context=context,
    )
    session.commit()
    return message


def test_customer_emails_carry_reply_to_and_the_merchant_notice_does_not(
    session: Session,
) -> None:
    receipt = _queued(session, "receipt")
    notice = _queued(session, "merchant_payment")
    sender = "Reef Runners <payments@reef-runners.test>"

    assert build_mime(receipt, sender, reply_to="desk@reef.test")["Reply-To"] == "desk@reef.test"
    assert build_mime(notice, sender, reply_to="desk@reef.test")["Reply-To"] is None
    assert build_mime(receipt, sender)["Reply-To"] is None


def test_the_sender_replies_to_the_saved_profile(
    session: Session, mailbox: LocalMailServer
) -> None:
    save_profile(session, REEF, user_id=None)
    session.commit()
    receipt = _queued(session, "receipt")
    assert "1.234,56\xa0€" in receipt.text_body, "rendered for the saved profile when queued"

    assert send_due(session, smtp_url=mailbox.url, mail_from="payments@example.test") == 1

    [delivered] = mailbox.messages()
    assert delivered["Reply-To"] == "desk@reef-runners.test"
    assert "Questions? Contact Reef Runners" in delivered.get_body(("plain",)).get_content()


# The Outbox's "Open pay page" ------------------------------------------------------------


def test_a_payment_link_email_leads_to_its_link_while_the_link_can_be_paid(
    session: Session,
) -> None:
    customer = make_customer(session)
    booking = make_booking(session, customer, total=20_000)
    link = links.create_link(
        session,
        customer_id=customer.id,
        booking_ids=[booking.id],
        amount=20_000,
        expires_in_days=7,
        message="",
        user_id=None,
    )
    session.commit()
    email = session.exec(select(EmailMessage).where(EmailMessage.customer_id == customer.id)).one()
    receipt = _queued(session, "receipt")

    assert links.link_of_email(session, email).id == link.id
    assert links.link_of_email(session, receipt) is None
    url = links.copy_url(session, link_id=link.id, customer_id=customer.id)
    assert links.find_link(session, url.rsplit("/", 1)[1]).id == link.id

    link.status = PaymentLinkStatus.REVOKED
    session.commit()
    assert links.link_of_email(session, email) is None
