"""Payment links against the emulator: hashed tokens, the pay view, one intent, one receipt."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from devtools.mailserver import LocalMailServer
from mioapp import crypto
from mioapp.auth import create_user
from mioapp.billing.errors import ChargeError
from mioapp.billing.ledger import BookingStatus
from mioapp.customers.detail import customer_detail
from mioapp.models import (
    Customer,
    EmailMessage,
    EmailStatus,
    PaymentLinkStatus,
    PaymentLinkToken,
    PaymentStatus,
    SavedCard,
)
from mioapp.notifications.sender import build_mime, send_due
from mioapp.payments import gateway, intents, link_payments, links
from mioapp.payments.gateway import StripeCredentials, build_client
from mioapp.settings import get_settings
from tests.conftest import run_coroutine as run
from tests.payments.conftest import charge_saved_card, confirm_in_browser, start_card_charge
from tests.unit.factories import make_booking

VISA = "4242424242424242"
MAIL_FROM = "Lagoon Adventures <payments@lagoon-adventures.test>"
PAY_TOKEN = re.compile(r"/pay/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
URL_SAFE_RUN = re.compile(r"[A-Za-z0-9_-]{43,}")


def _link(session: Session, customer: Customer, bookings, amount: int, days: int = 7):
    link = links.create_link(
        session,
        customer_id=customer.id,
        booking_ids=[b.id for b in bookings],
        amount=amount,
        expires_in_days=days,
        message="See you on the water <b>soon</b>",
        user_id=None,
    )
    session.commit()
    return link


def _token_from_email(session: Session) -> str:
    """The token of the newest payment-link email, as the customer will receive it."""
    email = session.exec(select(EmailMessage).where(EmailMessage.kind == "payment_link")).all()[-1]
    text = build_mime(email, MAIL_FROM).get_body(("plain",)).get_content()
    return text.split("/pay/", 1)[1].split()[0]


def _holds_text(column: sa.Column) -> bool:
    """String and Text columns, also behind a TypeDecorator (SQLModel's AutoString)."""
    return isinstance(getattr(column.type, "impl_instance", column.type), sa.String)


def _stored_strings(session: Session) -> list[str]:
    """Every text value in every table, as stored and, where it is one, decrypted."""
    values: list[str] = []
    for table in SQLModel.metadata.sorted_tables:
        columns = [c for c in table.columns if _holds_text(c)]
        if columns:
            for row in session.execute(sa.select(*columns)):
                values.extend(value for value in row if value)
    key = get_settings().secret_key_value()
    decrypted = []
    for value in values:
        with contextlib.suppress(crypto.DecryptionError):
            decrypted.append(crypto.decrypt(value, secret_key=key))
    return values + decrypted


def _start(db, credentials, link, save_card: bool = False, client: str = "203.0.113.9"):
    return run(
        link_payments.start_link_payment(
            db, credentials, link_id=link.id, save_card=save_card, client_address=client
        )
    )


def _pay(db, credentials, link, number: str = VISA, save_card: bool = False):
    """What the pay page does: start, let Stripe.js confirm with the card, finish."""
    started = _start(db, credentials, link, save_card)
    confirm_in_browser(credentials, started.payment.stripe_payment_intent_id, number)
    return run(
        link_payments.finish_link_payment(
            db,
            credentials,
            link_id=link.id,
            payment_id=started.payment.id,
            client_address="203.0.113.9",
        )
    )


@pytest.fixture
def merchant(session: Session):
    user = create_user(session, email="owner@lagoon.test", name="Owner", password="correct horse 1")
    session.commit()
    return user


def test_link_stores_only_the_token_hash_and_emails_the_url(
    session: Session, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=12_000)
    session.commit()

    link = _link(session, customer, [booking], 12_000)

    token = _token_from_email(session)
    assert len(token) == 43
    assert token not in (link.token_hash, *session.exec(select(PaymentLinkToken.token_hash)))
    assert link.token_hash == links.hash_token(token)
    assert links.find_link(session, token).id == link.id
    email = session.exec(select(EmailMessage)).one()
    assert email.to_address == customer.email
    html = build_mime(email, MAIL_FROM).get_body(("html",)).get_content()
    assert f"/pay/{token}" in html and "Complete Payment" in html
    assert "&lt;b&gt;soon&lt;/b&gt;" in html, "the message is escaped"


def test_sent_link_emails_leave_nothing_in_the_database_that_opens_the_link(
    session: Session, customer: Customer, mailbox: LocalMailServer
) -> None:
    booking = make_booking(session, customer, total=12_000)
    session.commit()
    link = _link(session, customer, [booking], 12_000)
    links.resend_link(session, link_id=link.id, customer_id=customer.id, user_id=None)
    session.commit()

    assert send_due(session, smtp_url=mailbox.url, mail_from=MAIL_FROM) == 2

    tokens = set()
    for received in mailbox.messages():
        for part in ("plain", "html"):
            tokens.update(PAY_TOKEN.findall(received.get_body((part,)).get_content()))
    assert len(tokens) == 2, "each email carries its own working URL"
    assert all(links.find_link(session, token).id == link.id for token in tokens)
    session.expire_all()
    assert {e.status for e in session.exec(select(EmailMessage))} == {EmailStatus.SENT}
    stored = _stored_strings(session)
    for token in tokens:
        assert not [value for value in stored if token in value]
    # Nor any other token-shaped string, anywhere inside a stored value, that opens a link.
    token_hashes = set(session.exec(select(PaymentLinkToken.token_hash)))
    windows = {
        chunk[start : start + 43]
        for value in stored
        for chunk in URL_SAFE_RUN.findall(value)
        for start in range(len(chunk) - 42)
    }
    assert windows, "the scan looked at something"
    assert [w for w in windows if links.hash_token(w) in token_hashes] == []


@pytest.mark.parametrize("token", ["", "abc", "x" * 43, "../../etc/passwd", "A" * 500])
def test_malformed_and_unknown_tokens_find_nothing(session: Session, token: str) -> None:
    assert links.find_link(session, token) is None


def test_link_pays_bookings_once_and_sends_each_email_once(
    session: Session, db, credentials: StripeCredentials, customer: Customer, merchant
) -> None:
    bookings = [make_booking(session, customer, total=6_000) for _ in range(2)]
    session.commit()
    link = _link(session, customer, bookings, 12_000)
    links.mark_opened(session, link)
    session.commit()
    assert link.status == PaymentLinkStatus.OPENED

    payment = _pay(db, credentials, link, save_card=True)

    assert payment.status == PaymentStatus.SUCCEEDED
    session.refresh(link)
    assert link.status == PaymentLinkStatus.PAID
    session.expire_all()
    statuses = {line.status for line in customer_detail(session, customer.id).bookings}
    assert statuses == {BookingStatus.CHARGED_IN_FULL}
    [saved] = session.exec(select(SavedCard).where(SavedCard.customer_id == customer.id)).all()
    assert saved.last4 == "4242"
    # Replays of the success (webhook, reload) send nothing more.
    intent = run(gateway.retrieve_intent(credentials, payment.stripe_payment_intent_id))
    run(db.run(lambda s: intents.apply_payment_intent(s, intent)))
    kinds = sorted(e.kind for e in session.exec(select(EmailMessage)).all())
    assert kinds == ["merchant_payment", "payment_link", "receipt"]
    receipt = session.exec(select(EmailMessage).where(EmailMessage.kind == "receipt")).one()
    assert receipt.to_address == customer.email and "$120.00" in receipt.text_body
    merchant_mail = session.exec(
        select(EmailMessage).where(EmailMessage.kind == "merchant_payment")
    ).one()
    assert merchant_mail.to_address == merchant.email
    view = link_payments.pay_view(session, link)
    assert view.state == "paid" and view.payment.id == payment.id
    with pytest.raises(ChargeError):
        _start(db, credentials, link)


def test_partial_link_leaves_partially_paid(
    session: Session, db, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=20_000)
    session.commit()
    link = _link(session, customer, [booking], 5_000)

    assert _pay(db, credentials, link).status == PaymentStatus.SUCCEEDED

    session.expire_all()
    [line] = customer_detail(session, customer.id).bookings
    assert line.status == BookingStatus.PARTIALLY_PAID and line.money.balance == 15_000


def test_amount_follows_the_live_balance(
    session: Session, db, credentials: StripeCredentials, customer: Customer, card: SavedCard
) -> None:
    booking = make_booking(session, customer, total=10_000)
    session.commit()
    link = _link(session, customer, [booking], 10_000)

    charge_saved_card(db, credentials, customer, card, [booking], 4_000)
    session.expire_all()
    view = link_payments.pay_view(session, link)
    assert (view.state, view.amount) == ("payable", 6_000)

    charge_saved_card(db, credentials, customer, card, [booking], 6_000)
    session.expire_all()
    assert link_payments.pay_view(session, link).state == "settled"


def test_a_hold_by_another_attempt_is_in_progress_never_already_paid(
    session: Session, db, credentials: StripeCredentials, customer: Customer
) -> None:
    """A new-card attempt in another tab holds the balance: the pay page says a payment is in
    progress and when the hold runs out, and once it has run out the link is payable again."""
    booking = make_booking(session, customer, total=48_000)
    session.commit()
    link = _link(session, customer, [booking], 48_000)
    started = start_card_charge(db, credentials, customer, [booking])

    session.expire_all()
    view = link_payments.pay_view(session, link)
    assert (view.state, view.amount) == ("in_progress", 48_000)
    assert view.released_at == started.payment.hold_until
    with pytest.raises(ChargeError):
        _start(db, credentials, link)

    later = started.payment.hold_until + timedelta(seconds=1)
    session.expire_all()
    assert (link_payments.pay_view(session, link, now=later).state, view.amount) == (
        "payable",
        48_000,
    )


def test_expired_and_revoked_links_cannot_be_paid(
    session: Session, db, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer)
    session.commit()
    expired = _link(session, customer, [booking], 1_000)
    expired.expires_at -= timedelta(days=8)
    session.commit()
    revoked = _link(session, customer, [booking], 1_000)
    run(links.revoke(db, credentials, link_id=revoked.id, customer_id=customer.id, user_id=None))

    session.expire_all()
    for link in (expired, revoked):
        assert link_payments.pay_view(session, link) is None
        with pytest.raises(ChargeError):
            _start(db, credentials, link)
    assert links.effective_status(expired) == PaymentLinkStatus.EXPIRED
    with pytest.raises(ChargeError):
        links.resend_link(session, link_id=revoked.id, customer_id=customer.id, user_id=None)


def test_reloads_and_tabs_reuse_one_intent(
    session: Session, db, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=7_000)
    session.commit()
    link = _link(session, customer, [booking], 7_000)

    first, second = (_start(db, credentials, link) for _ in range(2))

    assert first.payment.id == second.payment.id
    assert first.client_secret == second.client_secret
    listed = build_client(credentials).v1.payment_intents.list(
        params={"customer": customer.stripe_customer_id}
    )
    assert len(listed.data) == 1


def test_resend_and_copy_give_new_urls_that_all_work(session: Session, customer: Customer) -> None:
    booking = make_booking(session, customer)
    session.commit()
    link = _link(session, customer, [booking], 1_000)
    first = _token_from_email(session)

    links.resend_link(session, link_id=link.id, customer_id=customer.id, user_id=None)
    session.commit()
    resent = _token_from_email(session)
    copied = links.copy_url(session, link_id=link.id, customer_id=customer.id).rsplit("/", 1)[1]
    session.commit()

    assert len({first, resent, copied}) == 3
    assert all(links.find_link(session, t).id == link.id for t in (first, resent, copied))
    assert len(session.exec(select(EmailMessage)).all()) == 2


def test_failed_attempts_are_limited(
    session: Session, db, credentials: StripeCredentials, customer: Customer
) -> None:
    booking = make_booking(session, customer, total=3_000)
    session.commit()
    link = _link(session, customer, [booking], 3_000)

    for _ in range(link_payments.FAILED_ATTEMPTS_PER_HOUR):
        assert _pay(db, credentials, link, "4000000000000002").status == PaymentStatus.FAILED

    with pytest.raises(ChargeError, match="Too many failed attempts"):
        _start(db, credentials, link, client="198.51.100.1")


def test_link_needs_a_valid_expiry_and_amount(session: Session, customer: Customer) -> None:
    booking = make_booking(session, customer, total=5_000)
    session.commit()
    for days in (0, 61):
        with pytest.raises(ChargeError, match="between 1 and 60"):
            _link(session, customer, [booking], 5_000, days=days)
    with pytest.raises(ChargeError, match="most you can charge"):
        _link(session, customer, [booking], 5_001)


def test_link_keeps_the_split_the_merchant_chose(
    session: Session, db, credentials: StripeCredentials, customer: Customer, card: SavedCard
) -> None:
    """$200 over two bookings, put on the second: the pay page, the payment and the receipt
    show that split; when the second is paid some other way, its part drops out and the
    first is not charged more than the merchant asked."""
    first = make_booking(session, customer, total=48_000)
    second = make_booking(session, customer, total=30_000)
    session.commit()
    link = links.create_link(
        session,
        customer_id=customer.id,
        booking_ids=[first.id, second.id],
        amount=20_000,
        expires_in_days=7,
        message="",
        user_id=None,
        shares={first.id: 5_000, second.id: 15_000},
        description="Deposits",
    )
    session.commit()

    view = link_payments.pay_view(session, link)
    assert [(line.booking.id, line.amount, line.remaining) for line in view.lines] == [
        (first.id, 5_000, 43_000),
        (second.id, 15_000, 15_000),
    ]
    email = session.exec(select(EmailMessage).where(EmailMessage.kind == "payment_link")).one()
    assert "Deposits" in email.text_body and "$430.00 still to pay" in email.text_body

    charge_saved_card(db, credentials, customer, card, [second], 30_000)
    session.expire_all()
    view = link_payments.pay_view(session, link)
    assert (view.amount, [line.booking.id for line in view.lines]) == (5_000, [first.id])

    payment = _pay(db, credentials, link)
    assert payment.description == "Deposits"
    session.expire_all()
    receipt = session.exec(select(EmailMessage).where(EmailMessage.kind == "receipt")).all()[-1]
    assert "$50.00" in receipt.text_body and "$430.00 still to pay" in receipt.text_body
